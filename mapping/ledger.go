package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tributary/internal/database"
)

// LedgerEntry is one applied sync file.
type LedgerEntry struct {
	Prefix   string
	Stream   string
	Sequence uint64
	Mode     string
	Since    *time.Time // nil for a full file
	Until    time.Time
	SHA256   string
	Records  int64
	Inserted int64
	Updated  int64
	Deleted  int64
	FileName string
	Applied  time.Time
}

// ledgerTimeLayout is how window ends are written to DATETIME(6): UTC,
// microseconds, so the server never has to round.
const ledgerTimeLayout = "2006-01-02 15:04:05.000000"

// LedgerTime truncates t to what the ledger stores (UTC, microseconds), so
// that a time read back compares equal to the one written.
func LedgerTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// errNoSuchTable is the server's "table doesn't exist".
const errNoSuchTable = 1146

const ledgerColumns = "prefix, stream, sequence, mode, since, until, sha256, records, inserted, updated, deleted, file_name, applied_at"

// LedgerFind returns the entry of (prefix, stream, sequence), or nil.
func LedgerFind(ctx context.Context, q Querier, prefix, stream string, sequence uint64) (*LedgerEntry, error) {
	entries, err := ledgerQuery(ctx, q, "SELECT "+ledgerColumns+" FROM "+database.QuoteIdent(LedgerTable)+
		" WHERE prefix = ? AND stream = ? AND sequence = ?", prefix, stream, sequence)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	return &entries[0], nil
}

// LedgerLast returns the prefix's most recent entry (the latest window
// end; import only ever moves it forward), or nil when none was applied.
func LedgerLast(ctx context.Context, q Querier, prefix string) (*LedgerEntry, error) {
	entries, err := ledgerQuery(ctx, q, "SELECT "+ledgerColumns+" FROM "+database.QuoteIdent(LedgerTable)+
		" WHERE prefix = ? ORDER BY until DESC, applied_at DESC LIMIT 1", prefix)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	return &entries[0], nil
}

// LedgerStreamSeen reports whether any file of the stream was applied.
func LedgerStreamSeen(ctx context.Context, q Querier, prefix, stream string) (bool, error) {
	entries, err := ledgerQuery(ctx, q, "SELECT "+ledgerColumns+" FROM "+database.QuoteIdent(LedgerTable)+
		" WHERE prefix = ? AND stream = ? LIMIT 1", prefix, stream)
	return len(entries) > 0, err
}

// LedgerEntries lists every entry of a prefix (all prefixes when prefix is
// empty), oldest window first.
func LedgerEntries(ctx context.Context, q Querier, prefix string) ([]LedgerEntry, error) {
	if prefix == "" {
		return ledgerQuery(ctx, q, "SELECT "+ledgerColumns+" FROM "+database.QuoteIdent(LedgerTable)+" ORDER BY prefix, until, applied_at")
	}
	return ledgerQuery(ctx, q, "SELECT "+ledgerColumns+" FROM "+database.QuoteIdent(LedgerTable)+
		" WHERE prefix = ? ORDER BY until, applied_at", prefix)
}

// LedgerRecord writes e. With replace, an existing entry of the same
// (prefix, stream, sequence) is overwritten (a --rebuild from a file that
// was applied before); otherwise a duplicate is an error.
func LedgerRecord(ctx context.Context, q Querier, e *LedgerEntry, replace bool) error {
	verb := "INSERT"
	if replace {
		verb = "REPLACE"
	}
	var since any
	if e.Since != nil {
		since = LedgerTime(*e.Since).Format(ledgerTimeLayout)
	}
	_, err := q.ExecContext(ctx, verb+" INTO "+database.QuoteIdent(LedgerTable)+" ("+ledgerColumns+
		") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
		e.Prefix, e.Stream, e.Sequence, e.Mode, since, LedgerTime(e.Until).Format(ledgerTimeLayout),
		e.SHA256, e.Records, e.Inserted, e.Updated, e.Deleted, e.FileName)
	if err != nil {
		return fmt.Errorf("record prefix %s sequence %d in the ledger: %w", e.Prefix, e.Sequence, err)
	}
	return nil
}

func ledgerQuery(ctx context.Context, q Querier, query string, args ...any) ([]LedgerEntry, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if database.ErrorNumber(err) == errNoSuchTable {
		return nil, nil // no ledger yet: nothing was ever applied
	}
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	var out []LedgerEntry
	for rows.Next() {
		e, err := scanLedger(rows)
		if err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	return out, nil
}

func scanLedger(rows *sql.Rows) (LedgerEntry, error) {
	var e LedgerEntry
	var since sql.NullString
	var until, applied string
	err := rows.Scan(&e.Prefix, &e.Stream, &e.Sequence, &e.Mode, &since, &until, &e.SHA256, &e.Records,
		&e.Inserted, &e.Updated, &e.Deleted, &e.FileName, &applied)
	if err != nil {
		return e, err
	}
	if e.Until, err = parseLedgerTime(until); err != nil {
		return e, err
	}
	if e.Applied, err = parseLedgerTime(applied); err != nil {
		return e, err
	}
	if since.Valid {
		t, err := parseLedgerTime(since.String)
		if err != nil {
			return e, err
		}
		e.Since = &t
	}
	return e, nil
}

// parseLedgerTime reads a DATETIME(6) as the driver returns it without
// parseTime: "2006-01-02 15:04:05.000000", in UTC.
func parseLedgerTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("ledger time %q: %w", s, err)
	}
	return t, nil
}
