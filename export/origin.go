package export

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"tributary/childdb"
	"tributary/internal/exitcode"
)

// readOrigin asks the server which database the session reaches. The
// server's own host name and port, not the address in the DSN, name the
// server: "127.0.0.1" and "localhost" reach the same one, while a typo in
// the host reaches another. A restart keeps both; a move to another
// machine is a new origin, and so a new stream.
func readOrigin(ctx context.Context, conn *sql.Conn) (childdb.Origin, error) {
	var host sql.NullString
	var port sql.NullInt64
	var dbName sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT @@hostname, @@port, DATABASE()").Scan(&host, &port, &dbName); err != nil {
		return childdb.Origin{}, fmt.Errorf("read which server and database this is: %w", err)
	}
	if !dbName.Valid || dbName.String == "" {
		return childdb.Origin{}, exitcode.Errorf(exitcode.Usage, "the connection names no database: add it to --dsn (…/DBNAME) or to the option file (database=DBNAME)")
	}
	return childdb.Origin{Host: host.String + ":" + strconv.FormatInt(port.Int64, 10), Database: dbName.String}, nil
}

// checkOrigin refuses to export another database than the state file's:
// its file would tell the master that every row of this child which the
// other database lacks was deleted. A state file written before origins
// were recorded adopts the session's.
func (e *exporter) checkOrigin() error {
	prev := e.prev
	if prev == nil {
		return nil
	}
	if prev.Source == nil {
		e.opts.warn("state file %s did not record its database (written by an older tributary): from now on it belongs to %s", e.opts.StatePath, e.origin)
		return nil
	}
	if !prev.Source.Differs(e.origin) {
		return nil
	}
	return exitcode.Errorf(exitcode.Usage, "state file %s belongs to %s, but this connection reaches %s: nothing was exported. "+
		"Check --dsn or the option file. If this child really moved to that server or database, start a new stream on purpose with --new-stream "+
		"(one full file; the master makes prefix %s equal to it, refusing mass deletions unless told otherwise)",
		e.opts.StatePath, *prev.Source, e.origin, e.opts.Prefix)
}
