package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tributary/internal/exitcode"
)

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

// takeLock takes the prefix's lock without waiting for another import. A
// holder that the server is rolling back (an interrupted import) is
// waited for, a while: its work is already lost, and it ends by itself.
func (s *session) takeLock(ctx context.Context, name string) error {
	deadline := time.Now().Add(rollbackWait)
	for wait := 0; ; wait = 1 {
		var got sql.NullInt64
		if err := s.conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, wait).Scan(&got); err != nil {
			return fmt.Errorf("take lock %s: %w", name, sqlError(err))
		}
		if got.Valid && got.Int64 == 1 {
			s.lock = name
			return nil
		}
		holder, rollingBack, err := s.lockHolder(ctx, name)
		if err != nil {
			return err
		}
		switch {
		case holder == 0 && time.Now().Before(deadline):
			continue // released just now: try again
		case !rollingBack:
			return exitcode.Wrap(exitcode.Locked, fmt.Errorf("%w: prefix %s (lock %q is held by connection %d); try again later", ErrLocked, s.prefix, name, holder))
		case time.Now().After(deadline):
			return exitcode.Wrap(exitcode.Locked, fmt.Errorf("%w: prefix %s: lock %q is still held by connection %d, which the server is rolling back (an interrupted import, nothing of it applied); try again in a few minutes",
				ErrRollingBack, s.prefix, name, holder))
		}
	}
}

// ErrRollingBack: the prefix's lock belongs to an interrupted import that
// the server is still rolling back (exit 75: try again later).
var ErrRollingBack = errors.New("an interrupted import of this prefix is still being rolled back")

// lockHolder returns the connection holding lock and whether the server
// is rolling it back (killed, or ending its transaction).
func (s *session) lockHolder(ctx context.Context, name string) (int64, bool, error) {
	var id sql.NullInt64
	var command, state sql.NullString
	err := s.conn.QueryRowContext(ctx, `SELECT l.id, p.COMMAND, p.STATE FROM (SELECT IS_USED_LOCK(?) AS id) l
		LEFT JOIN information_schema.PROCESSLIST p ON p.ID = l.id`, name).Scan(&id, &command, &state)
	if err != nil {
		return 0, false, fmt.Errorf("look at lock %s: %w", name, sqlError(err))
	}
	return id.Int64, command.String == "Killed" || state.String == "Rollback", nil
}
