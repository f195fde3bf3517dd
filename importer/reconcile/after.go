package reconcile

import (
	"context"
	"fmt"
	"math"
	"sort"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/importer/write"
	"tributary/mapping"
	"tributary/schema"
)

// Before is what the mapping held before the file's upserts: the hand-off
// of NoteExisting to After.
type Before struct {
	// HadRows: mapped tables that had mappings when the file started; a
	// table without them holds only the file's rows, so nothing to delete.
	HadRows map[string]bool
}

// NoteExisting records which of the file's mapped tables already have rows
// of this prefix on the master: one cheap look-up per table, before the
// first upsert.
func (t Target) NoteExisting(ctx context.Context) (Before, error) {
	b := Before{HadRows: map[string]bool{}}
	for _, tp := range t.Plan.Ordered {
		if !tp.Table.Mapped {
			continue
		}
		has, err := t.Store.Any(ctx, tp.Table.Name)
		if err != nil {
			return b, err
		}
		b.HadRows[tp.Table.Name] = has
	}
	return b, nil
}

// After finds what the file says is gone, once its upserts are applied,
// and deletes it, returning the rows deleted per table:
//   - track tables: mapped child IDs outside the live ranges;
//   - owner tables: for each owner row in the file, its owned rows that the
//     file does not carry;
//   - snapshot tables: the prefix's rows that the file does not carry;
//   - a full file: every mapped row of the prefix that it does not carry.
//
// A row the file carries that would be deleted rejects the file.
func (t Target) After(ctx context.Context, before Before, carried *write.Carried) (plan.Counts, error) {
	d := t.deleter(carried)
	for _, tp := range t.Plan.Ordered {
		tab := tp.Table
		var err error
		switch {
		case tab.Mapped && !before.HadRows[tab.Name]:
			// Every mapped row of the table came with this file.
		case t.Plan.Full() && tab.Mapped:
			err = d.notSent(ctx, tab, "the full file does not carry it")
		case tab.Role == schema.RoleSnapshot:
			err = d.snapshotGone(ctx, tab)
		case tab.Role == schema.RoleTrack:
			err = d.outsideLive(ctx, tab)
		}
		if err != nil {
			return nil, err
		}
		if tab.Role == schema.RoleOwner {
			if err := d.ownerSetGone(ctx, tp); err != nil {
				return nil, err
			}
		}
	}
	if err := d.expand(ctx); err != nil {
		return nil, err
	}
	return d.execute(ctx)
}

// notSent queues every mapped row of t that the file does not carry.
func (d *deleter) notSent(ctx context.Context, t *schema.Table, why string) error {
	sent := d.carried.Sent[t.Name]
	var gone []int64
	err := d.Store.Scan(ctx, t.Name, func(p mapping.Pair) error {
		if !sent.Has(p.Master) {
			gone = append(gone, p.Master)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return d.addMapped(t.Name, gone, why)
}

// snapshotGone: a snapshot table's file set is the whole table.
func (d *deleter) snapshotGone(ctx context.Context, t *schema.Table) error {
	if t.Mapped {
		return d.notSent(ctx, t, "the snapshot does not carry it")
	}
	keys, err := d.prefixRows(ctx, t)
	if err != nil {
		return err
	}
	var gone [][]any
	for _, k := range keys {
		if !d.carried.SentKeys[t.Name][plan.EncodeKey(k)] {
			gone = append(gone, k)
		}
	}
	return d.addComposite(t.Name, gone, "the snapshot does not carry it")
}

// outsideLive queues the mapped rows of a track table whose child IDs lie
// outside the file's live ranges. A file without a live record for the
// table says nothing about deletions, so nothing is deleted then.
func (d *deleter) outsideLive(ctx context.Context, t *schema.Table) error {
	ranges, ok := d.carried.Live[t.Name]
	if !ok || !t.Mapped {
		return nil
	}
	var gone []int64
	err := d.Store.ScanRanges(ctx, t.Name, gaps(ranges), func(p mapping.Pair) error {
		gone = append(gone, p.Master)
		return nil
	})
	if err != nil {
		return err
	}
	return d.addMapped(t.Name, gone, "its child ID is outside the live ranges")
}

// gaps returns the complement of ranges over all int64 values.
func gaps(ranges [][2]int64) [][2]int64 {
	rs := append([][2]int64(nil), ranges...)
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] })
	var out [][2]int64
	next := int64(math.MinInt64) // the lowest value not yet covered
	done := false
	for _, r := range rs {
		if done {
			break
		}
		if r[0] > next {
			out = append(out, [2]int64{next, r[0] - 1})
		}
		if r[1] >= next {
			if r[1] == math.MaxInt64 {
				done = true
			} else {
				next = r[1] + 1
			}
		}
	}
	if !done {
		out = append(out, [2]int64{next, math.MaxInt64})
	}
	return out
}

// ownerSetGone: for every owner row the file carries, the file carries all
// its owned rows, so the owned rows it does not carry are gone.
func (d *deleter) ownerSetGone(ctx context.Context, tp *plan.Table) error {
	t := tp.Table
	ref := t.Ref(t.Owner)
	owners, err := d.ownersWithRows(ctx, t, ref)
	if err != nil {
		return err
	}
	for _, owner := range owners {
		// Owners this file inserted are new to the master: nothing can be
		// owned by them but what the file brought.
		existed := d.carried.Existed[owner]
		if existed.Empty() {
			continue
		}
		found, err := d.rowsReferencing(ctx, t, ref, owner, existed.IDs())
		if err == nil && d.sharesRows(owner) {
			found, err = d.ownOnly(ctx, t, found, owner)
		}
		if err != nil {
			return fmt.Errorf("table %s: read the owned rows of %s: %w", t.Name, owner, err)
		}
		var gone [][]any
		for _, k := range found {
			if !d.carried.Carries(tp, k) {
				gone = append(gone, k)
			}
		}
		if err := d.addFound(t, gone, "its owner's set in the file does not include it"); err != nil {
			return err
		}
	}
	return nil
}

// prefixRows returns the keys of a composite table's rows that belong to
// this prefix: those whose first key column referencing a synced table
// points at a row this prefix maps (plan.PrefixColumn). A key made only
// of shared references cannot be told apart from other prefixes' rows,
// so none are returned.
func (t Target) prefixRows(ctx context.Context, table *schema.Table) ([][]any, error) {
	col, ref := plan.PrefixColumn(table)
	if ref == nil {
		return nil, nil
	}
	mt, err := mapping.TableName(t.Plan.Header.Prefix)
	if err != nil {
		return nil, err
	}
	q, args, err := masterdb.SelectJoined(table.Name, table.Key, col, mt, ref.Table)
	if err != nil {
		return nil, err
	}
	var keys [][]any
	if err := t.Tx.Query(ctx, q, args, masterdb.ScanKey(len(table.Key), &keys)); err != nil {
		return nil, fmt.Errorf("table %s: read the prefix's rows: %w", table.Name, err)
	}
	return keys, nil
}

// prefixRowCount counts the rows prefixRows returns.
func (t Target) prefixRowCount(ctx context.Context, table *schema.Table) (int64, error) {
	col, ref := plan.PrefixColumn(table)
	if ref == nil {
		return 0, nil
	}
	mt, err := mapping.TableName(t.Plan.Header.Prefix)
	if err != nil {
		return 0, err
	}
	q, args, err := masterdb.CountJoined(table.Name, col, mt, ref.Table)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := t.Tx.Query(ctx, q, args, func(scan func(...any) error) error { return scan(&n) }); err != nil {
		return 0, fmt.Errorf("table %s: count the prefix's rows: %w", table.Name, err)
	}
	return n, nil
}
