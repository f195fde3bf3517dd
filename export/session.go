package export

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// session is the one pinned connection that does all of an export's reads.
// Its transaction is started with plain statements, because database/sql
// cannot ask for WITH CONSISTENT SNAPSHOT; so database/sql does not know
// about it, and end must never hand the connection back to the pool with
// the transaction still open.
type session struct {
	conn   *sql.Conn
	inTx   bool
	closed bool
}

func openSession(ctx context.Context, db *sql.DB) (*session, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	// UTC whatever the DSN said, so TIMESTAMP values and the window are
	// unambiguous; and as a long table is streamed while the file is
	// written, give a slow disk time before the server gives up sending
	// (the default is 60s).
	for _, stmt := range []string{"SET time_zone = '+00:00'", "SET SESSION net_write_timeout = 600"} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			conn.Close()
			return nil, fmt.Errorf("set up session: %w", err)
		}
	}
	return &session{conn: conn}, nil
}

// begin starts the read-only snapshot every read of the export sees.
func (s *session) begin(ctx context.Context) error {
	if _, err := s.conn.ExecContext(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		return fmt.Errorf("start snapshot: %w", err)
	}
	s.inTx = true
	if _, err := s.conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
		return fmt.Errorf("start snapshot: %w", err)
	}
	return nil
}

// end finishes the transaction and releases the connection. When the
// export failed, or ending the transaction fails, the connection is
// discarded instead: the server then ends the transaction with it.
func (s *session) end(ctx context.Context, ok bool) error {
	if s.closed {
		return nil
	}
	s.closed = true
	if ok && s.inTx {
		if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
			s.discard()
			return fmt.Errorf("end snapshot: %w", err)
		}
	}
	if !ok {
		s.discard()
		return nil
	}
	return s.conn.Close()
}

// discard closes the connection rather than returning it to the pool.
func (s *session) discard() {
	_ = s.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = s.conn.Close()
}
