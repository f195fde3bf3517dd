package importer

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"strings"
	"time"

	"tributary/importer/masterdb"
	"tributary/importer/write"
	"tributary/internal/database"
	"tributary/mapping"
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
	limits  write.Limits
	ensured bool
	// unwatch stops the interrupt watch (see watch) and reports whether
	// it killed the session's server-side work.
	unwatch func() (killed bool)
	db      *sql.DB
	opts    *Options
	// lease holds the prefix across a cluster's nodes (nil elsewhere).
	lease *lease
	// noReturning: the server cannot return inserted rows' IDs (see
	// write.FirstPass.NoReturning).
	noReturning bool
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
			return fmt.Errorf("a dry run of prefix %s's first file makes its mapping table as a temporary table, which this account may not: GRANT CREATE TEMPORARY TABLES ON the master database to it (%w)", s.prefix, masterdb.SQLError(err))
		}
		return fmt.Errorf("create master tables: %w", masterdb.SQLError(err))
	}
	s.ensured = true
	return nil
}

// openSession pins a connection, takes the prefix's lock without waiting
// (busy: exit 75) and sets the session up.
func openSession(ctx context.Context, db *sql.DB, prefix string, opts *Options) (*session, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	s := &session{conn: conn, prefix: prefix, db: db, opts: opts}
	if err := s.setup(ctx, opts); err != nil {
		s.releaseLease(ctx)
		s.discard()
		return nil, err
	}
	s.watch(ctx)
	return s, nil
}

func (s *session) setup(ctx context.Context, opts *Options) error {
	var dbName sql.NullString
	var packet int64
	var version string
	if err := s.conn.QueryRowContext(ctx, "SELECT DATABASE(), @@max_allowed_packet, CONNECTION_ID(), VERSION()").Scan(&dbName, &packet, &s.id, &version); err != nil {
		return fmt.Errorf("read session: %w", masterdb.SQLError(err))
	}
	s.noReturning = !hasReturning(version)
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
			return fmt.Errorf("set up session: %w", masterdb.SQLError(err))
		}
	}
	if opts.LockWaitTimeout > 0 {
		secs := max(1, int64(opts.LockWaitTimeout.Round(time.Second)/time.Second))
		if _, err := s.conn.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = ?", secs); err != nil {
			return fmt.Errorf("set up session: %w", masterdb.SQLError(err))
		}
	}
	cluster, err := s.isCluster(ctx)
	if err != nil {
		return err
	}
	if cluster {
		if err := s.takeLease(ctx); err != nil {
			return err
		}
	}
	s.limits = write.Limits{Rows: opts.BatchRows, Bytes: int(min(max(packet/4, 64<<10), 8<<20)), Params: 65000}
	return nil
}

// close releases the lock and throws the connection away rather than
// returning it to the pool, so its session settings never leak. After an
// interruption it waits (a while) until the server has rolled the killed
// work back, so that the next run finds the prefix free.
func (s *session) close(ctx context.Context) {
	killed := s.unwatch != nil && s.unwatch()
	s.releaseLease(ctx)
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

// noReturningEnv makes import take the path of servers without INSERT ...
// RETURNING on MariaDB too: how the test suite proves that path
// (docs/cluster.md). It only ever makes import do less.
const noReturningEnv = "TRIBUTARY_NO_RETURNING"

// hasReturning reports whether the server returns inserted rows' IDs with
// INSERT ... RETURNING: MariaDB from 10.5 on. MySQL has no RETURNING, and
// TiDB parses it and returns nothing.
func hasReturning(version string) bool {
	if os.Getenv(noReturningEnv) != "" || !strings.Contains(version, "MariaDB") {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 10 || major == 10 && minor >= 5
}

func (s *session) discard() {
	_ = s.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = s.conn.Close()
}

// After Ctrl-C or SIGTERM the driver only closes its socket: the server
// goes on with the statement in flight (waiting up to a lock wait timeout
// for a row, or for a table's metadata lock without end) and holds the
// transaction and the prefix's lock until it notices. So the import kills
// its own session from a second connection: the server stops the
// statement and starts the rollback at once.

// rollbackWait bounds how long an interrupted import, or the next run,
// waits for the server to finish rolling a killed session back.
const rollbackWait = 30 * time.Second

// watch kills the session's server-side work when ctx ends.
func (s *session) watch(ctx context.Context) {
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		kill, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		// An account may always kill its own sessions. The ID is ours, an
		// integer: KILL takes no placeholder.
		_, _ = s.db.ExecContext(kill, fmt.Sprintf("KILL CONNECTION %d", s.id))
	})
	s.unwatch = func() bool {
		if stop() {
			return false // ctx never ended
		}
		<-done
		return true
	}
}

// waitGone waits until the server has ended the killed session, which it
// does once the rollback is complete; the prefix's lock goes with it.
func (s *session) waitGone(ctx context.Context) {
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackWait)
	defer cancel()
	said := false
	for start := time.Now(); ; {
		var n int
		err := s.db.QueryRowContext(wait, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", s.id).Scan(&n)
		if err != nil || n == 0 {
			return
		}
		if !said && time.Since(start) > time.Second {
			warn(s.opts, "prefix %s: waiting for the server to roll back the interrupted file (connection %d)", s.prefix, s.id)
			said = true
		}
		select {
		case <-wait.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
