package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// WithTx runs fn in a transaction on the pinned connection conn: it commits
// when fn returns nil and rolls back on an error or a panic, so no caller can
// forget the rollback on one of its return paths.
func WithTx(ctx context.Context, conn *sql.Conn, opts *sql.TxOptions, fn func(*sql.Tx) error) (err error) {
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// IsRetryable reports whether the server aborted a statement for a deadlock
// (1213) or a lock wait timeout (1205): running the whole transaction again
// is then the documented remedy.
func IsRetryable(err error) bool {
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) {
		return false
	}
	return myErr.Number == 1213 || myErr.Number == 1205
}

// ErrorNumber returns the server's error number, or 0 for other errors.
func ErrorNumber(err error) uint16 {
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) {
		return 0
	}
	return myErr.Number
}
