package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// Holdings is what the master holds of each child, as the ledger and the
// mapping tables tell it: what status shows.
type Holdings struct {
	Database string    // the master database
	Now      time.Time // the master's clock, UTC: lags are measured from it
	Prefixes []Held    // by prefix
}

// Held is what the master holds of one prefix.
type Held struct {
	Prefix string
	// Last is the applied file with the latest window end (of two with the
	// same end, the one applied last); nil when none was applied.
	Last         *LedgerEntry
	FilesApplied int
	// Mapped counts the mapped rows per table (empty without a mapping table).
	Mapped map[string]int64
}

// ReadHoldings reads the ledger and every mapping table of the connected
// master. SELECT is enough.
func ReadHoldings(ctx context.Context, q Querier) (*Holdings, error) {
	h := &Holdings{}
	var dbName sql.NullString
	var now string
	if err := queryRow(ctx, q, "SELECT DATABASE(), UTC_TIMESTAMP(6)", nil, &dbName, &now); err != nil {
		return nil, fmt.Errorf("read the master's clock: %w", err)
	}
	h.Database = dbName.String
	t, err := parseLedgerTime(now)
	if err != nil {
		return nil, fmt.Errorf("read the master's clock: %w", err)
	}
	h.Now = t
	prefixes, err := Prefixes(ctx, q)
	if err != nil {
		return nil, err
	}
	entries, err := LedgerEntries(ctx, q, "")
	if err != nil {
		return nil, err
	}
	byPrefix := map[string]*Held{}
	get := func(p string) *Held {
		if byPrefix[p] == nil {
			byPrefix[p] = &Held{Prefix: p, Mapped: map[string]int64{}}
		}
		return byPrefix[p]
	}
	for _, p := range prefixes {
		get(p)
	}
	for i := range entries { // oldest window first, so the last one wins
		e := &entries[i]
		held := get(e.Prefix)
		held.FilesApplied++
		if held.Last != nil && e.Until.Before(held.Last.Until) {
			continue
		}
		held.Last = e
	}
	for _, p := range prefixes {
		store, err := NewStore(q, p)
		if err != nil {
			return nil, err
		}
		counts, err := store.Counts(ctx)
		store.Close()
		if err != nil {
			return nil, fmt.Errorf("prefix %s: %w", p, err)
		}
		get(p).Mapped = counts
	}
	for _, held := range byPrefix {
		h.Prefixes = append(h.Prefixes, *held)
	}
	sort.Slice(h.Prefixes, func(i, j int) bool { return h.Prefixes[i].Prefix < h.Prefixes[j].Prefix })
	return h, nil
}
