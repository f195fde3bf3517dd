package mapping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tributary/childdb"
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
	// Source is the child database the file came from; its fields are
	// empty for files applied before it was recorded.
	Source childdb.Origin
}

// ledgerTimeLayout is how window ends are written to DATETIME(6): UTC,
// microseconds, so the server never has to round.
const ledgerTimeLayout = "2006-01-02 15:04:05.000000"

// LedgerTime truncates t to what the ledger stores (UTC, microseconds), so
// that a time read back compares equal to the one written.
func LedgerTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// errNoSuchTable is the server's "table doesn't exist".
const errNoSuchTable = 1146

const ledgerColumns = "prefix, stream, sequence, mode, since, until, sha256, records, inserted, updated, deleted, file_name, applied_at, source_host, source_database"

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

// LedgerStreamOrigin returns the child database the stream's latest file
// that recorded one came from; ok is false when none did.
func LedgerStreamOrigin(ctx context.Context, q Querier, prefix, stream string) (origin childdb.Origin, ok bool, err error) {
	entries, err := ledgerQuery(ctx, q, "SELECT "+ledgerColumns+" FROM "+database.QuoteIdent(LedgerTable)+
		" WHERE prefix = ? AND stream = ? AND source_database IS NOT NULL ORDER BY sequence DESC LIMIT 1", prefix, stream)
	if err != nil || len(entries) == 0 {
		return origin, false, err
	}
	return entries[0].Source, true, nil
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
		") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), ?, ?)",
		e.Prefix, e.Stream, e.Sequence, e.Mode, since, LedgerTime(e.Until).Format(ledgerTimeLayout),
		e.SHA256, e.Records, e.Inserted, e.Updated, e.Deleted, e.FileName,
		nullIfEmpty(e.Source.Host), nullIfEmpty(e.Source.Database))
	if err != nil {
		return fmt.Errorf("record prefix %s sequence %d in the ledger: %w", e.Prefix, e.Sequence, err)
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ErrTransactionLost: the server ended the import's transaction (rolled it
// back) before the file was complete, and the session went on without it.
// Nothing of the file is committed; trying the file again is safe.
var ErrTransactionLost = errors.New("the server rolled the import's transaction back before the file was complete")

// LedgerClaim is a file's ledger row, written as the first statement of
// the transaction that applies the file, so that the transaction can prove
// it is still whole before it commits (Confirm).
type LedgerClaim struct {
	entry   LedgerEntry
	applied string // applied_at as the server stored it: this attempt's mark
}

// ClaimLedger writes e's row (see LedgerRecord) and reads back the moment
// the server stamped on it, which tells this attempt's row from an earlier
// one of the same file (--rebuild replaces it).
func ClaimLedger(ctx context.Context, q Querier, e *LedgerEntry, replace bool) (*LedgerClaim, error) {
	if err := LedgerRecord(ctx, q, e, replace); err != nil {
		return nil, err
	}
	c := &LedgerClaim{entry: *e}
	err := queryRow(ctx, q, "SELECT applied_at FROM "+database.QuoteIdent(LedgerTable)+
		" WHERE prefix = ? AND stream = ? AND sequence = ?", []any{e.Prefix, e.Stream, e.Sequence}, &c.applied)
	if err != nil {
		return nil, fmt.Errorf("read back the ledger row of prefix %s sequence %d: %w", e.Prefix, e.Sequence, err)
	}
	return c, nil
}

// Confirm writes the file's checksum and counts into the claimed row (they
// are known once the file was read to its verified end) and proves
// that the transaction which claimed it is still the one running: the row
// is read back, locked, with this attempt's mark and the counts just
// written. A transaction that the server rolled back while the session
// went on (an error some statement did not report) cannot pass: the row is
// gone, and the UPDATE ran outside it. The caller must then roll back.
func (c *LedgerClaim) Confirm(ctx context.Context, q Querier, sha256 string, records, inserted, updated, deleted int64) error {
	e := &c.entry
	key := []any{e.Prefix, e.Stream, e.Sequence}
	_, err := q.ExecContext(ctx, "UPDATE "+database.QuoteIdent(LedgerTable)+
		" SET sha256 = ?, records = ?, inserted = ?, updated = ?, deleted = ? WHERE prefix = ? AND stream = ? AND sequence = ? AND applied_at = ?",
		append(append([]any{sha256, records, inserted, updated, deleted}, key...), c.applied)...)
	if err != nil {
		return fmt.Errorf("record prefix %s sequence %d in the ledger: %w", e.Prefix, e.Sequence, err)
	}
	var applied, sha string
	var got [4]int64
	err = queryRow(ctx, q, "SELECT applied_at, sha256, records, inserted, updated, deleted FROM "+database.QuoteIdent(LedgerTable)+
		" WHERE prefix = ? AND stream = ? AND sequence = ? FOR UPDATE", key, &applied, &sha, &got[0], &got[1], &got[2], &got[3])
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w (prefix %s sequence %d: its ledger row is gone)", ErrTransactionLost, e.Prefix, e.Sequence)
	case err != nil:
		return fmt.Errorf("read back the ledger row of prefix %s sequence %d: %w", e.Prefix, e.Sequence, err)
	case applied != c.applied || sha != sha256 || got != [4]int64{records, inserted, updated, deleted}:
		return fmt.Errorf("%w (prefix %s sequence %d: its ledger row is not the one this import wrote)", ErrTransactionLost, e.Prefix, e.Sequence)
	}
	return nil
}

// queryRow reads one row into dest; sql.ErrNoRows when there is none.
func queryRow(ctx context.Context, q Querier, query string, args []any, dest ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	found := false
	err = database.ScanRows(rows, func(rows *sql.Rows) error {
		if found {
			return nil
		}
		found = true
		return rows.Scan(dest...)
	})
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	return err
}

func ledgerQuery(ctx context.Context, q Querier, query string, args ...any) ([]LedgerEntry, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if database.ErrorNumber(err) == errNoSuchTable {
		return nil, nil // no ledger yet: nothing was ever applied
	}
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	var out []LedgerEntry
	err = database.ScanRows(rows, func(rows *sql.Rows) error {
		e, err := scanLedger(rows)
		if err == nil {
			out = append(out, e)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	return out, nil
}

func scanLedger(rows *sql.Rows) (LedgerEntry, error) {
	var e LedgerEntry
	var since, host, dbName sql.NullString
	var until, applied string
	err := rows.Scan(&e.Prefix, &e.Stream, &e.Sequence, &e.Mode, &since, &until, &e.SHA256, &e.Records,
		&e.Inserted, &e.Updated, &e.Deleted, &e.FileName, &applied, &host, &dbName)
	if err != nil {
		return e, err
	}
	e.Source = childdb.Origin{Host: host.String, Database: dbName.String}
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
