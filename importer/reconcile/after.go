package importer

import (
	"context"
	"fmt"
	"math"
	"sort"

	"tributary/mapping"
	"tributary/schema"
	"tributary/syncfile"
)

// deletions finds what the file says is gone and deletes it:
//   - track tables: mapped child IDs outside the live ranges;
//   - owner tables: for each owner row in the file, its owned rows that the
//     file does not carry;
//   - snapshot tables: the prefix's rows that the file does not carry;
//   - a full file: every mapped row of the prefix that it does not carry.
func (f *fileRun) deletions(ctx context.Context) error {
	d := newDeleter(f, true)
	full := f.plan.header.Mode == syncfile.ModeFull
	for _, tp := range f.plan.ordered {
		var err error
		switch {
		case tp.t.Mapped && !f.hadRows[tp.t.Name]:
			// Every mapped row of the table came with this file.
		case full && tp.t.Mapped:
			err = f.notSent(ctx, d, tp.t, "the full file does not carry it")
		case tp.t.Role == schema.RoleSnapshot:
			err = f.snapshotGone(ctx, d, tp.t)
		case tp.t.Role == schema.RoleTrack:
			err = f.outsideLive(ctx, d, tp.t)
		}
		if err != nil {
			return err
		}
		if tp.t.Role == schema.RoleOwner {
			if err := f.ownerSetGone(ctx, d, tp.t); err != nil {
				return err
			}
		}
	}
	if err := d.expand(ctx); err != nil {
		return err
	}
	return d.execute(ctx)
}

// notSent queues every mapped row of t that the file does not carry.
func (f *fileRun) notSent(ctx context.Context, d *deleter, t *schema.Table, why string) error {
	sent := f.sent[t.Name]
	var gone []int64
	err := f.store.Scan(ctx, t.Name, func(p mapping.Pair) error {
		if !sent.has(p.Master) {
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
func (f *fileRun) snapshotGone(ctx context.Context, d *deleter, t *schema.Table) error {
	if t.Mapped {
		return f.notSent(ctx, d, t, "the snapshot does not carry it")
	}
	keys, err := f.prefixRows(ctx, t)
	if err != nil {
		return err
	}
	var gone [][]any
	for _, k := range keys {
		if !f.sentKeys[t.Name][encodeKey(k)] {
			gone = append(gone, k)
		}
	}
	return d.addComposite(t.Name, gone, "the snapshot does not carry it")
}

// prefixRows returns the keys of a composite table's rows that belong to
// this prefix: those whose first key column referencing a synced table
// points at a row this prefix maps. A key made only of shared references
// cannot be told apart from other prefixes' rows, so none are returned.
func (f *fileRun) prefixRows(ctx context.Context, t *schema.Table) ([][]any, error) {
	col, ref := prefixColumn(t)
	if ref == nil {
		return nil, nil
	}
	table, err := mapping.TableName(f.plan.header.Prefix)
	if err != nil {
		return nil, err
	}
	q, err := selectJoinedSQL(t.Name, t.Key, col, table)
	if err != nil {
		return nil, err
	}
	var keys [][]any
	if err := f.query(ctx, q, []any{ref.Table}, scanKey(len(t.Key), &keys)); err != nil {
		return nil, fmt.Errorf("table %s: read the prefix's rows: %w", t.Name, err)
	}
	return keys, nil
}

// prefixRowCount counts the rows prefixRows returns.
func (f *fileRun) prefixRowCount(ctx context.Context, t *schema.Table) (int64, error) {
	col, ref := prefixColumn(t)
	if ref == nil {
		return 0, nil
	}
	table, err := mapping.TableName(f.plan.header.Prefix)
	if err != nil {
		return 0, err
	}
	q, err := countJoinedSQL(t.Name, col, table)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := f.query(ctx, q, []any{ref.Table}, func(scan func(...any) error) error { return scan(&n) }); err != nil {
		return 0, fmt.Errorf("table %s: count the prefix's rows: %w", t.Name, err)
	}
	return n, nil
}

// prefixColumn is the key column that tells a composite table's rows of
// one prefix from another's: the first that references a synced table.
func prefixColumn(t *schema.Table) (string, *schema.Reference) {
	for _, col := range t.Key {
		ref := t.Ref(col)
		if ref != nil && !ref.Shared && !ref.Polymorphic() {
			return col, ref
		}
	}
	return "", nil
}

// outsideLive queues the mapped rows of a track table whose child IDs lie
// outside the file's live ranges. A file without a live record for the
// table says nothing about deletions, so nothing is deleted then.
func (f *fileRun) outsideLive(ctx context.Context, d *deleter, t *schema.Table) error {
	ranges, ok := f.live[t.Name]
	if !ok || !t.Mapped {
		return nil
	}
	var gone []int64
	err := f.store.ScanRanges(ctx, t.Name, gaps(ranges), func(p mapping.Pair) error {
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
func (f *fileRun) ownerSetGone(ctx context.Context, d *deleter, t *schema.Table) error {
	ref := t.Ref(t.Owner)
	owners := []string{ref.Table}
	if ref.Polymorphic() {
		owners = owners[:0]
		for _, tp := range f.plan.ordered {
			if tp.t.Mapped {
				owners = append(owners, tp.t.Name)
			}
		}
	}
	for _, owner := range owners {
		// Owners this file inserted are new to the master: nothing can be
		// owned by them but what the file brought.
		existed := f.updated[owner]
		if existed.empty() {
			continue
		}
		if err := f.ownedNotSent(ctx, d, t, ref, owner, existed.ids()); err != nil {
			return err
		}
	}
	return nil
}

func (f *fileRun) ownedNotSent(ctx context.Context, d *deleter, t *schema.Table, ref *schema.Reference, owner string, ownerIDs []int64) error {
	found, err := f.rowsReferencing(ctx, t, ref, owner, ownerIDs)
	if err != nil {
		return fmt.Errorf("table %s: read the owned rows of %s: %w", t.Name, owner, err)
	}
	var gone [][]any
	for _, k := range found {
		if !f.carries(t, k) {
			gone = append(gone, k)
		}
	}
	return d.addFound(t, gone, "its owner's set in the file does not include it")
}

// carries reports whether the file carries the row with this master key.
func (f *fileRun) carries(t *schema.Table, key []any) bool {
	if !t.Mapped {
		return f.sentKeys[t.Name][encodeKey(key)]
	}
	id, err := asInt64(key[0])
	return err == nil && f.sent[t.Name].has(id)
}

// rebuild deletes every row of the prefix and its whole mapping, before a
// full file is inserted afresh (--rebuild).
func (f *fileRun) rebuild(ctx context.Context) error {
	f.rebuilt = true
	d := newDeleter(f, false)
	for _, t := range f.plan.s.Tables {
		var err error
		if t.Mapped {
			err = f.allMapped(ctx, d, t)
		} else {
			err = f.allComposite(ctx, d, t)
		}
		if err != nil {
			return err
		}
	}
	if err := d.expand(ctx); err != nil {
		return err
	}
	if err := d.execute(ctx); err != nil {
		return err
	}
	if _, err := f.store.DeleteAll(ctx); err != nil {
		return err
	}
	f.cache.reset()
	return nil
}

func (f *fileRun) allMapped(ctx context.Context, d *deleter, t *schema.Table) error {
	var ids []int64
	err := f.store.Scan(ctx, t.Name, func(p mapping.Pair) error {
		ids = append(ids, p.Master)
		return nil
	})
	if err != nil {
		return err
	}
	f.held[t.Name] = int64(len(ids))
	return d.addMapped(t.Name, ids, "--rebuild")
}

func (f *fileRun) allComposite(ctx context.Context, d *deleter, t *schema.Table) error {
	keys, err := f.prefixRows(ctx, t)
	if err != nil {
		return err
	}
	f.held[t.Name] = int64(len(keys))
	return d.addComposite(t.Name, keys, "--rebuild")
}
