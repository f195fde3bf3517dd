package dbtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// Statement is one query or statement a Recorder saw, with its arguments.
type Statement struct {
	Query string
	Args  []any
}

// Recorder keeps the statements run through the databases it opened, for
// tests that must know what a component asked the server (which it does
// not report) rather than what it answered.
type Recorder struct {
	mu   sync.Mutex
	seen []Statement
}

// Open opens the database of cfg through a driver that records every
// query and statement run directly on it (not those of prepared
// statements). The pool is closed when the test ends.
func (r *Recorder) Open(tb testing.TB, cfg *mysql.Config) *sql.DB {
	tb.Helper()
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	db := sql.OpenDB(recordingConnector{Connector: connector, r: r})
	tb.Cleanup(func() { db.Close() })
	return db
}

// Statements returns what was recorded so far and forgets it.
func (r *Recorder) Statements() []Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.seen
	r.seen = nil
	return seen
}

func (r *Recorder) add(query string, args []driver.NamedValue) {
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, Statement{Query: query, Args: vals})
}

type recordingConnector struct {
	driver.Connector
	r *Recorder
}

func (c recordingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: conn, r: c.r}, nil
}

// recordingConn records what database/sql runs on the connection. When
// the driver declines a query with arguments (driver.ErrSkip: it prepares
// them instead), database/sql prepares it through PrepareContext, which
// is passed on as it is: the query is recorded once, here.
type recordingConn struct {
	driver.Conn
	r *Recorder
}

func (c *recordingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.r.add(query, args)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *recordingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.r.add(query, args)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *recordingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *recordingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}
