package importer

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"tributary/internal/database"
	"tributary/internal/exitcode"
	"tributary/mapping"
	"tributary/schema"
	"tributary/syncfile"

	"github.com/go-sql-driver/mysql"
)

// sessionSQLMode is the master session's sql_mode during an import.
// STRICT_ALL_TABLES makes a value the master cannot store exactly fail the
// statement (and so the file) instead of being truncated with a warning.
// NO_ZERO_DATE and NO_ZERO_IN_DATE are left out on purpose: files carry
// zero dates exactly as the child stored them.
const sessionSQLMode = "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION"

// session is one pinned connection holding one prefix's lock, with the
// session settings every import transaction of that prefix runs under.
type session struct {
	conn    *sql.Conn
	id      int64 // the server's ID of conn (CONNECTION_ID())
	prefix  string
	lock    string
	limits  limits
	ensured bool
	facts   *masterFacts
	// unwatch stops the interrupt watch (see watch) and reports whether
	// it killed the session's server-side work.
	unwatch func() (killed bool)
	db      *sql.DB
	opts    *Options
}

// ensure creates the mapping and ledger tables when they are missing, the
// first time a file of the prefix is about to be applied: a file rejected
// by its header or the ledger never creates them. CREATE TABLE commits, so
// this runs before the file's transaction.
func (s *session) ensure(ctx context.Context, dryRun bool) error {
	if s.ensured {
		return nil
	}
	ensure := mapping.Ensure
	if dryRun {
		ensure = mapping.EnsureTemporary // gone with the session's connection
	}
	if _, err := ensure(ctx, s.conn, s.prefix); err != nil {
		if n := database.ErrorNumber(err); dryRun && (n == 1044 || n == 1142) {
			return fmt.Errorf("a dry run of prefix %s's first file makes its mapping table as a temporary table, which this account may not: GRANT CREATE TEMPORARY TABLES ON the master database to it (%w)", s.prefix, sqlError(err))
		}
		return fmt.Errorf("create master tables: %w", sqlError(err))
	}
	s.ensured = true
	return nil
}

// LockName is the GET_LOCK name that serialises imports of a prefix into
// one master database: "tributary:<database>:<prefix>", or, when that would
// pass MySQL's 64-character limit, "tributary:" and a hash of both. Named
// locks are server-wide, so the database is part of the name: two master
// databases on one server never block each other.
func LockName(databaseName, prefix string) string {
	name := "tributary:" + databaseName + ":" + prefix
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(databaseName + ":" + prefix))
	return "tributary:" + hex.EncodeToString(sum[:])[:40]
}

// openSession pins a connection, takes the prefix's lock without waiting
// (busy: exit 75) and sets the session up.
func openSession(ctx context.Context, db *sql.DB, prefix string, facts *masterFacts, opts *Options) (*session, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	s := &session{conn: conn, prefix: prefix, facts: facts, db: db, opts: opts}
	if err := s.setup(ctx, opts); err != nil {
		s.discard()
		return nil, err
	}
	s.watch(ctx)
	return s, nil
}

func (s *session) setup(ctx context.Context, opts *Options) error {
	var dbName sql.NullString
	var packet int64
	if err := s.conn.QueryRowContext(ctx, "SELECT DATABASE(), @@max_allowed_packet, CONNECTION_ID()").Scan(&dbName, &packet, &s.id); err != nil {
		return fmt.Errorf("read session: %w", sqlError(err))
	}
	if err := s.takeLock(ctx, LockName(dbName.String, s.prefix)); err != nil {
		return err
	}
	for _, stmt := range []string{
		"SET SESSION sql_mode = '" + sessionSQLMode + "'",
		// Foreign-key checks stay on: rows go in parents first and deletes
		// run children first, so the master's own constraints hold at every
		// statement and catch any reference that was not rewritten.
		"SET SESSION foreign_key_checks = 1",
		// No statement of this session ever commits on its own. When the
		// server rolls a file's transaction back (a deadlock, a cluster
		// conflict) and an error goes unnoticed, the statements that follow
		// open a new transaction instead of committing one by one, and the
		// ledger check before COMMIT (mapping.LedgerClaim) finds the
		// transaction broken and rolls that back too.
		"SET SESSION autocommit = 0",
	} {
		if _, err := s.conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("set up session: %w", sqlError(err))
		}
	}
	if opts.LockWaitTimeout > 0 {
		secs := max(1, int64(opts.LockWaitTimeout.Round(time.Second)/time.Second))
		if _, err := s.conn.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = ?", secs); err != nil {
			return fmt.Errorf("set up session: %w", sqlError(err))
		}
	}
	s.limits = limits{rows: 1000, bytes: int(min(max(packet/4, 64<<10), 8<<20)), params: 65000}
	return nil
}

// close releases the lock and throws the connection away rather than
// returning it to the pool, so its session settings never leak. After an
// interruption it waits (a while) until the server has rolled the killed
// work back, so that the next run finds the prefix free.
func (s *session) close(ctx context.Context) {
	killed := s.unwatch != nil && s.unwatch()
	if s.lock != "" && !killed {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = s.conn.ExecContext(cleanup, "DO RELEASE_LOCK(?)", s.lock)
	}
	s.discard()
	if killed {
		s.waitGone(ctx)
	}
}

func (s *session) discard() {
	_ = s.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = s.conn.Close()
}

// attempt is how one file is applied this time.
type attempt struct {
	path    string
	rebuild bool
	// deletionsFirst: apply the file's deletions before its upserts (see
	// early.go), after the usual order met a unique-key collision.
	deletionsFirst bool
}

// applyWithRetry applies one file, trying again after a deadlock or lock
// wait timeout (the server rolled the transaction back; running it again is
// the documented remedy), and once more with its deletions first after a
// unique-key collision. It records the outcome in res.
func applyWithRetry(ctx context.Context, sess *session, s *schema.Schema, q queued, rebuild bool, opts *Options, res *Result) {
	start := time.Now()
	backoff := opts.RetryBackoff
	a := attempt{path: q.path, rebuild: rebuild}
	var err error
	for retries := 0; ; {
		res.Attempts++
		err = applyFile(ctx, sess, s, a, opts, res)
		if err != nil && isUniqueConflict(err) && !a.deletionsFirst && !a.rebuild && ctx.Err() == nil {
			warn(opts, "%s: warning: a row collides with a row the file deletes (%v); applying the file again with its deletions first", q.path, err)
			a.deletionsFirst = true
			continue
		}
		if err == nil || !retryable(err) || retries >= opts.Retries || ctx.Err() != nil {
			break
		}
		retries++
		warn(opts, "%s: warning: %v; trying again in %s (attempt %d of %d)", q.path, err, backoff, retries+1, opts.Retries+1)
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

// applyFile checks one file against the master and the ledger and applies
// it in one transaction; any error rolls everything back.
func applyFile(ctx context.Context, sess *session, s *schema.Schema, a attempt, opts *Options, res *Result) error {
	path, rebuild := a.path, a.rebuild
	r, err := syncfile.Open(path, syncfile.ReaderOptions{SignKey: opts.SignKey})
	if err != nil {
		return err
	}
	defer func() { r.Close() }()
	h := r.Header()
	w, p, err := checkHeader(s, path, h)
	if err != nil {
		return err
	}
	found, err := mapping.LedgerFind(ctx, sess.conn, h.Prefix, h.Stream, h.Sequence)
	if err != nil {
		return err
	}
	if found != nil {
		next, err := replay(ctx, sess, path, r, found, rebuild, opts, res)
		if next == nil || err != nil {
			return err
		}
		r.Close()
		r = next
	} else if err := admit(ctx, sess, h, w, opts); err != nil {
		return err
	}
	if err := sess.ensure(ctx, opts.DryRun); err != nil {
		return err
	}
	err = database.WithTx(ctx, sess.conn, nil, func(tx *sql.Tx) error {
		if err := applyTx(ctx, tx, sess, p, a, r, w, found != nil, opts, res); err != nil {
			return err
		}
		if opts.DryRun {
			return errDryRun // roll back: WithTx commits only on nil
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

func checkHeader(s *schema.Schema, path string, h *syncfile.Header) (window, *plan, error) {
	if err := validStream(h.Stream); err != nil {
		return window{}, nil, err
	}
	if err := checkName(filepath.Base(path), h); err != nil {
		return window{}, nil, err
	}
	w, err := parseWindow(h)
	if err != nil {
		return window{}, nil, err
	}
	p, err := newPlan(s, h)
	return w, p, err
}

// admit checks a file never applied before against the prefix's history.
func admit(ctx context.Context, sess *session, h *syncfile.Header, w window, opts *Options) error {
	last, err := mapping.LedgerLast(ctx, sess.conn, h.Prefix)
	if err != nil {
		return err
	}
	seen, err := mapping.LedgerStreamSeen(ctx, sess.conn, h.Prefix, h.Stream)
	if err != nil {
		return err
	}
	v := ledgerView{last: last, streamSeen: seen}
	if seen {
		origin, ok, err := mapping.LedgerStreamOrigin(ctx, sess.conn, h.Prefix, h.Stream)
		if err != nil {
			return err
		}
		if ok {
			v.streamOrigin = &origin
		}
	}
	if err := checkOrder(h, w, v); err != nil {
		return err
	}
	if !seen && last != nil && last.Source.Database != "" && last.Source.Differs(h.Source.Origin()) {
		warn(opts, "prefix %s: stream %s starts here with a full file read from %s; the previous stream (%s) came from %s. If that is not the child you expect, stop the imports of %s and check the child's connection",
			h.Prefix, h.Stream, h.Source.Origin(), last.Stream, last.Source, h.Prefix)
	}
	return nil
}

// replay handles a file the ledger already lists. It reads the file to
// its verified trailer to learn its checksum: the same file is skipped
// (nil reader), a different one rejected. With rebuild, the latest applied
// full file may be applied again: a reader opened afresh is returned.
func replay(ctx context.Context, sess *session, path string, r *syncfile.Reader, found *mapping.LedgerEntry, rebuild bool, opts *Options, res *Result) (*syncfile.Reader, error) {
	h := *r.Header()
	sha, records, err := drain(ctx, r)
	if err != nil {
		return nil, err
	}
	if _, err := checkReplay(&h, sha, found); err != nil {
		return nil, err
	}
	if !rebuild {
		res.Skipped, res.Records = true, records
		return nil, nil
	}
	last, err := mapping.LedgerLast(ctx, sess.conn, h.Prefix)
	if err != nil {
		return nil, err
	}
	if last.Stream != found.Stream || last.Sequence != found.Sequence {
		return nil, rejectf(ErrStale, "--rebuild from sequence %d: the master has applied newer files since (sequence %d of stream %s); rebuilding from this one would roll it back", h.Sequence, last.Sequence, last.Stream)
	}
	return syncfile.Open(path, syncfile.ReaderOptions{SignKey: opts.SignKey})
}

// drain reads a file to its end, which verifies it, and returns its checksum.
func drain(ctx context.Context, r *syncfile.Reader) (string, int64, error) {
	for n := 0; ; n++ {
		if n%10000 == 0 && ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			t := r.Trailer()
			return t.SHA256, t.Records, nil
		}
		if err != nil {
			return "", 0, err
		}
	}
}

func applyTx(ctx context.Context, tx *sql.Tx, sess *session, p *plan, a attempt, r *syncfile.Reader, w window, replace bool, opts *Options, res *Result) error {
	path := a.path
	h := p.header
	// The ledger row comes first: the transaction's proof of itself (see
	// mapping.LedgerClaim), and the row two imports of one file collide on.
	claim, err := mapping.ClaimLedger(ctx, tx, &mapping.LedgerEntry{
		Prefix: h.Prefix, Stream: h.Stream, Sequence: h.Sequence, Mode: h.Mode,
		Since: w.since, Until: w.until, SHA256: "", FileName: filepath.Base(path),
		Source: h.Source.Origin(),
	}, replace)
	if err != nil {
		return err
	}
	store, err := mapping.NewStore(tx, h.Prefix)
	if err != nil {
		return err
	}
	defer store.Close()
	lim := sess.limits
	lim.rows = opts.BatchRows
	run := newFileRun(path, p, tx, store, lim, sess.facts, opts, res)
	defer run.close()
	if a.rebuild {
		if err := run.rebuild(ctx); err != nil {
			return fmt.Errorf("--rebuild: %w", err)
		}
	}
	if a.deletionsFirst {
		sets, err := prescan(ctx, path, p, opts)
		if err != nil {
			return err
		}
		if err := run.earlyDeletions(ctx, sets); err != nil {
			return err
		}
	} else if !a.rebuild && p.header.Mode == syncfile.ModeIncremental {
		if err := run.preDeletions(ctx, path); err != nil {
			return err
		}
	}
	if err := run.apply(ctx, r); err != nil {
		return err
	}
	run.finish()
	t := r.Trailer()
	res.Records = t.Records
	return claim.Confirm(ctx, tx, t.SHA256, t.Records, res.Inserted, res.Updated, res.Deleted)
}
