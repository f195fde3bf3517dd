// Package masterdb is the master as one file's transaction sees it: the
// import's SQL statements, built whole from names (never from values, which
// are always bound), prepared once per transaction and run, with the
// server's errors rewritten so that no row's value reaches a message.
package masterdb

import (
	"context"
	"database/sql"
	"strings"

	"tributary/importer/reject"
	"tributary/internal/database"
)

// Tx is one file's transaction on the master. It prepares each statement
// once (the statements of an import come in a few shapes per table, so
// nothing is evicted) and reads every result set to its end, so the
// connection is free again when a call returns. A Tx is not safe for
// concurrent use.
type Tx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	// exact: the file comes from a schema that differs from the master's,
	// so every write is checked for values the master changed.
	exact bool
}

// NewTx wraps tx. With exact, CheckWarnings looks at every write.
func NewTx(tx *sql.Tx, exact bool) *Tx {
	return &Tx{tx: tx, stmts: map[string]*sql.Stmt{}, exact: exact}
}

// SQL is the transaction itself, for what manages its own statements
// (mapping.Store, the ledger).
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Close releases the prepared statements.
func (t *Tx) Close() {
	for q, st := range t.stmts {
		st.Close()
		delete(t.stmts, q)
	}
}

// Prepared returns the prepared form of query.
func (t *Tx) Prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, SQLError(err)
	}
	t.stmts[query] = st
	return st, nil
}

// Query runs a query and calls each for every row, after which the result
// set is closed (and its error, Close's included, returned).
func (t *Tx) Query(ctx context.Context, query string, args []any, each func(scan func(...any) error) error) error {
	st, err := t.Prepared(ctx, query)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return SQLError(err)
	}
	return SQLError(database.ScanRows(rows, func(rows *sql.Rows) error { return each(rows.Scan) }))
}

// Exec runs a statement and returns the rows it affected (the driver
// reports changed rows, not matched ones).
func (t *Tx) Exec(ctx context.Context, query string, args []any) (int64, error) {
	st, err := t.Prepared(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, SQLError(err)
	}
	return res.RowsAffected()
}

// InsertID runs an INSERT of one row and returns the ID the server gave
// it (LAST_INSERT_ID of the statement).
func (t *Tx) InsertID(ctx context.Context, query string, args []any) (int64, error) {
	st, err := t.Prepared(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, SQLError(err)
	}
	return res.LastInsertId()
}

// warningCodes are the notes and warnings a write gives when the master
// stored something other than the file's value (rounded a DECIMAL, cut a
// fraction of a second): strict mode makes most of them errors, not all.
var warningCodes = map[uint16]bool{1264: true, 1265: true, 1292: true, 1366: true, 1406: true, 1301: true, 1048: true}

// CheckWarnings rejects the file when the last write was not exact. It
// asks only when the child's schema differs from the master's (their
// fingerprints differ): with identical column types no value can change.
func (t *Tx) CheckWarnings(ctx context.Context, table string) error {
	if !t.exact {
		return nil
	}
	var n int
	if err := t.tx.QueryRowContext(ctx, "SELECT @@warning_count").Scan(&n); err != nil || n == 0 {
		return SQLError(err)
	}
	rows, err := t.tx.QueryContext(ctx, "SHOW WARNINGS")
	if err != nil {
		return SQLError(err)
	}
	return SQLError(database.ScanRows(rows, func(rows *sql.Rows) error {
		var level, msg string
		var code uint16
		if err := rows.Scan(&level, &code, &msg); err != nil {
			return err
		}
		if warningCodes[code] {
			return reject.Errorf(reject.ErrData, "table %s: the master cannot store a value of the file exactly (%s %d: %s); the child's and the master's column types differ",
				table, strings.ToLower(level), code, ScrubMessage(code, msg))
		}
		return nil
	}))
}
