package importer

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"tributary/importer/masterdb"
	"tributary/importer/write"
	"tributary/internal/database"
	"tributary/internal/exitcode"
	"tributary/mapping"
	"tributary/syncfile"
)

// attempt is how one file is applied this time.
type attempt struct {
	*queued
	rebuild bool
	// deletionsFirst: apply the file's deletions before its upserts (see
	// reconcile.First), after the usual order met a unique-key collision.
	deletionsFirst bool
}

// applyWithRetry applies one file, trying again after a deadlock or lock
// wait timeout (the server rolled the transaction back; running it again is
// the documented remedy), and once more with its deletions first after a
// unique-key collision. Each attempt reads the file again from its first
// byte. It records the outcome in res.
func (r *runner) applyWithRetry(ctx context.Context, sess *session, q *queued, rebuild bool, res *Result) {
	start := time.Now()
	backoff := r.opts.RetryBackoff
	a := attempt{queued: q, rebuild: rebuild}
	var err error
	for retries := 0; ; {
		res.Attempts++
		err = r.applyFile(ctx, sess, a, res)
		if err != nil && (masterdb.IsUniqueConflict(err) || write.IsDeferredFailed(err)) && !a.deletionsFirst && !a.rebuild && ctx.Err() == nil {
			warn(&r.opts, "%s: warning: a row collides with a row the file deletes (%v); applying the file again with its deletions first", q.path, err)
			a.deletionsFirst = true
			continue
		}
		if err == nil || !retryable(err) || retries >= r.opts.Retries || ctx.Err() != nil {
			break
		}
		retries++
		warn(&r.opts, "%s: warning: %v; trying again in %s (attempt %d of %d)", q.path, err, backoff, retries+1, r.opts.Retries+1)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	res.Duration = time.Since(start)
	res.Err = fileError(ctx, q.path, err, res.Attempts)
}

// errInterrupted is the server's "Query execution was interrupted".
const errInterrupted = 1317

// retryable reports an error after which the server has rolled the file's
// transaction back and running it again is the remedy: a deadlock, a lock
// wait timeout, or a transaction found broken before COMMIT.
func retryable(err error) bool {
	return database.IsRetryable(err) || errors.Is(err, mapping.ErrTransactionLost)
}

// writeSetLimit names the Galera setting a refused write set passed
// (wsrep_max_ws_rows or wsrep_max_ws_size), or "".
func writeSetLimit(err error) string {
	var my *mysql.MySQLError
	if !errors.As(err, &my) {
		return ""
	}
	msg := strings.ToLower(my.Message)
	switch {
	case strings.Contains(msg, "wsrep_max_ws_rows"):
		return "wsrep_max_ws_rows"
	case strings.Contains(msg, "wsrep_max_ws_size"), strings.Contains(msg, "writeset size"):
		return "wsrep_max_ws_size"
	}
	return ""
}

func warn(opts *Options, format string, args ...any) {
	if opts.Warn != nil {
		opts.Warn(fmt.Sprintf(format, args...))
	}
}

// fileError gives a file's error its exit code and names the file once.
func fileError(ctx context.Context, path string, err error, attempts int) error {
	var fileReject *syncfile.RejectError
	switch {
	case err == nil:
		return nil
	case interrupted(ctx, err):
		return exitcode.Wrap(exitcode.Interrupted, fmt.Errorf("%s: interrupted; rolled back: %w", path, err))
	case errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn):
		return exitcode.Wrap(exitcode.Failure, fmt.Errorf("%s: the connection to the master broke (killed by an admin, a server restart, a network failure); the server rolls the file back, nothing of it is applied, and the next run tries it again: %w", path, err))
	case writeSetLimit(err) != "":
		return exitcode.Wrap(exitcode.Failure, fmt.Errorf("%s: the file is larger than the cluster lets one transaction be (%s); nothing of it was applied. A file is applied in one transaction: raise %s on every node (SET GLOBAL, and in the server's configuration), then the next run applies it: %w",
			path, writeSetLimit(err), writeSetLimit(err), err))
	case database.ErrorNumber(err) == errInterrupted:
		return exitcode.Wrap(exitcode.Failure, fmt.Errorf("%s: the server interrupted a statement of the import (KILL QUERY, or the server shutting down); rolled back, nothing of the file was applied, and the next run tries it again: %w", path, err))
	case retryable(err):
		return exitcode.Wrap(exitcode.Failure, fmt.Errorf("%s: gave up after %d attempts, each ended by a deadlock or lock wait timeout (other sessions keep locking the same rows); rolled back: %w", path, attempts, err))
	case errors.As(err, &fileReject):
		return err // the reader's message already names the file
	case exitcode.Code(err) != exitcode.Failure:
		return err
	}
	if rej := asReject(path, err); rej != err {
		return rej
	}
	return fmt.Errorf("%s: %w", path, err)
}
