package mapping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"tributary/internal/database"
)

// NoticesTable remembers, per topic, a digest of the last warning import
// told the admin about it (triggers it cannot undo, a stale file sent
// again), so that a warning that would repeat on every cron run is told
// once per change of its content.
const NoticesTable = "tributary_notices"

// ErrNoNotices: the master has no notices table (it is made by a first
// import with CREATE); every warning is then told every time.
var ErrNoNotices = errors.New("no " + NoticesTable + " table")

func noticesDDL() string {
	return createTable(NoticesTable, false) + ` (
  topic VARCHAR(255) NOT NULL,
  digest CHAR(64) NOT NULL,
  said_at DATETIME(6) NOT NULL,
  PRIMARY KEY (topic)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
}

// EnsureNotices creates the notices table when it is missing and reports
// whether it did.
func EnsureNotices(ctx context.Context, q Querier) (bool, error) {
	exists, err := tableExists(ctx, q, NoticesTable)
	if err != nil || exists {
		return false, err
	}
	if _, err := q.ExecContext(ctx, noticesDDL()); err != nil {
		return false, fmt.Errorf("create table %s: %w", NoticesTable, err)
	}
	return true, nil
}

// NoticeDigest returns the digest remembered for topic, "" when none;
// ErrNoNotices when the table is missing.
func NoticeDigest(ctx context.Context, q Querier, topic string) (string, error) {
	rows, err := q.QueryContext(ctx, "SELECT digest FROM "+database.QuoteIdent(NoticesTable)+" WHERE topic = ?", topic)
	if database.ErrorNumber(err) == 1146 { // no such table
		return "", ErrNoNotices
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", NoticesTable, err)
	}
	var digest string
	if err := database.ScanRows(rows, func(r *sql.Rows) error { return r.Scan(&digest) }); err != nil {
		return "", fmt.Errorf("read %s: %w", NoticesTable, err)
	}
	return digest, nil
}

// RecordNotice remembers digest as what was told about topic.
func RecordNotice(ctx context.Context, q Querier, topic, digest string) error {
	_, err := q.ExecContext(ctx, "INSERT INTO "+database.QuoteIdent(NoticesTable)+" (topic, digest, said_at) VALUES (?, ?, UTC_TIMESTAMP(6))"+
		" ON DUPLICATE KEY UPDATE digest = VALUES(digest), said_at = VALUES(said_at)", topic, digest)
	if err != nil {
		return fmt.Errorf("write %s: %w", NoticesTable, err)
	}
	return nil
}

// ForgetNotice drops what was told about topic, whose condition is gone:
// should it come back, it is told again. A missing table is no error.
func ForgetNotice(ctx context.Context, q Querier, topic string) error {
	_, err := q.ExecContext(ctx, "DELETE FROM "+database.QuoteIdent(NoticesTable)+" WHERE topic = ?", topic)
	if err != nil && database.ErrorNumber(err) != 1146 {
		return fmt.Errorf("write %s: %w", NoticesTable, err)
	}
	return nil
}
