package export

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// writerLine matches a read-write transaction in SHOW ENGINE INNODB STATUS:
// MariaDB gives a numeric id only to transactions that have written; read
// views (another export's snapshot, a backup) print a pointer instead.
var writerLine = regexp.MustCompile(`^---TRANSACTION [0-9]+, ACTIVE (?:\([A-Z ]+\) )?([0-9]+) sec`)

// oldestWriterFromStatus finds the oldest transaction that has written,
// from SHOW ENGINE INNODB STATUS. information_schema.INNODB_TRX alone is not
// enough: InnoDB serves it from a cache that is refreshed only when nobody
// has read it for 100 ms, so a monitor polling it often can hide a
// transaction from us indefinitely. The status output is built afresh on
// every call. ok is false when the account may not run it.
// The ages it prints count from the server's real clock, SYSDATE(), which a
// session's SET timestamp does not move.
func oldestWriterFromStatus(ctx context.Context, conn *sql.Conn) (oldest time.Time, ok bool, err error) {
	var kind, name, status string
	err = conn.QueryRowContext(ctx, "SHOW ENGINE INNODB STATUS").Scan(&kind, &name, &status)
	if isAccessDenied(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	maxAge := -1
	scanner := bufio.NewScanner(strings.NewReader(status))
	for scanner.Scan() {
		m := writerLine.FindStringSubmatch(scanner.Text())
		if m == nil {
			continue
		}
		if age, err := strconv.Atoi(m[1]); err == nil && age > maxAge {
			maxAge = age
		}
	}
	if maxAge < 0 {
		return time.Time{}, true, nil
	}
	var sysdate string
	if err := conn.QueryRowContext(ctx, "SELECT SYSDATE(6)").Scan(&sysdate); err != nil {
		return time.Time{}, false, err
	}
	now, err := time.Parse(dbTime, sysdate)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("database clock %q: %w", sysdate, err)
	}
	// "ACTIVE N sec" is whole seconds, rounded down; one more second covers
	// a statement whose NOW() was taken before InnoDB registered it.
	return now.Add(-time.Duration(maxAge+2) * time.Second), true, nil
}
