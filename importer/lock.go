package importer

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"tributary/importer/masterdb"
	"tributary/internal/exitcode"
)

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

// takeLock takes the prefix's lock without waiting for another import. A
// holder that the server is rolling back (an interrupted import) is
// waited for, a while: its work is already lost, and it ends by itself.
func (s *session) takeLock(ctx context.Context, name string) error {
	deadline := time.Now().Add(rollbackWait)
	for wait := 0; ; wait = 1 {
		var got sql.NullInt64
		if err := s.conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, wait).Scan(&got); err != nil {
			return fmt.Errorf("take lock %s: %w", name, masterdb.SQLError(err))
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
		return 0, false, fmt.Errorf("look at lock %s: %w", name, masterdb.SQLError(err))
	}
	return id.Int64, command.String == "Killed" || state.String == "Rollback", nil
}
