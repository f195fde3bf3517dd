package reconcile

import (
	"context"
	"fmt"

	"tributary/importer/plan"
	"tributary/mapping"
	"tributary/schema"
)

// A file is normally applied upserts first, deletions last, so that a row
// that moved (an email given to another contact, then the old contact
// deleted) keeps its master ID. That order fails when the child deleted a
// row and made a new one with the same unique value in one window (a tag
// removed and added again): the new row collides with the old one, which
// is still on the master. Such a file is tried once more with the
// deletions first (First). An incremental file's deletions go first from
// the start when that provably ends the same as after (Early), which
// spares the failed attempt. Both judge by child IDs, from the file's
// contents surveyed before its first upsert.

// First deletes, before any upsert, every row the file deletes, judged by
// child IDs: track rows outside the live ranges, rows a full file or a
// snapshot does not carry, owned rows missing from their owner's set. Rows
// that moved are deleted too and come back with new master IDs.
func (t Target) First(ctx context.Context, c *plan.Contents) (plan.Counts, error) {
	d, err := t.firstPlan(ctx, c)
	if err != nil {
		return nil, err
	}
	return d.execute(ctx)
}

// Early applies an incremental file's deletions before its upserts when
// doing so provably ends the same as applying them after: no row the file
// carries is deleted, set to NULL or otherwise touched by them, and no row
// of the file references a deleted row. Then a row the child deleted can
// no longer collide with a new row that took over its unique value in the
// same window, which upserts-first would only find by failing and applying
// the whole file again. When it is not provably the same, nothing is done
// here and the deletions run after the upserts as usual. c must hold the
// file's references (plan.Records.Survey with refs).
func (t Target) Early(ctx context.Context, c *plan.Contents) (plan.Counts, error) {
	if len(c.Live) == 0 && !t.Plan.HasOwnedOrSnapshot() {
		return nil, nil // the file can delete nothing
	}
	d, err := t.firstPlan(ctx, c)
	if err != nil {
		return nil, err
	}
	if d.empty() {
		return nil, nil
	}
	safe, err := d.leavesFileAlone(ctx, c)
	if err != nil || !safe {
		return nil, err
	}
	return d.execute(ctx)
}

// firstPlan finds, by child IDs, the rows the file deletes, and follows
// them to the rows deleting them takes along.
func (t Target) firstPlan(ctx context.Context, c *plan.Contents) (*deleter, error) {
	d := t.deleter(nil)
	for _, tp := range t.Plan.Ordered {
		tab := tp.Table
		var err error
		switch {
		case tab.Mapped && (t.Plan.Full() || tab.Role == schema.RoleSnapshot):
			err = d.notCarried(ctx, tab, c, nil)
		case tab.Mapped && tab.Role == schema.RoleTrack:
			if ranges, ok := c.Live[tab.Name]; ok {
				err = d.notCarried(ctx, tab, c, gaps(ranges))
			}
		case tab.Role == schema.RoleSnapshot:
			err = d.snapshotKeysNotCarried(ctx, tab, c)
		}
		if err == nil && tab.Role == schema.RoleOwner {
			err = d.ownedNotCarried(ctx, tab, c)
		}
		if err != nil {
			return nil, fmt.Errorf("deletions first: %w", err)
		}
	}
	if err := d.expand(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// overwrites reports whether setting column of t to NULL in a row the file
// carries, before the upserts, leaves no trace: the file's row sets that
// column itself (a mapped table whose column the file carries), and every
// trigger of the master is one whose effect on the file's rows is
// repaired (repair.Restore), so the extra UPDATE changes nothing that
// stays.
func (d *deleter) overwrites(t *schema.Table, column string) bool {
	tp := d.Plan.Tables[t.Name]
	if tp == nil || !t.Mapped || len(d.Facts.Opaque()) > 0 {
		return false
	}
	_, carried := tp.Index[column]
	return carried
}

// leavesFileAlone reports whether the planned deletions leave every row the
// file carries alone: none is deleted, none is referenced by the file's
// rows, and no SET NULL of them changes a row the file carries, unless the
// file's row then sets that column anyway (see overwrites).
func (d *deleter) leavesFileAlone(ctx context.Context, c *plan.Contents) (bool, error) {
	if c.RefsUnknown {
		return false, nil
	}
	for table, set := range d.ids {
		if len(set) == 0 {
			continue
		}
		back, err := d.Store.LookupMaster(ctx, table, sortedIDs(set))
		if err != nil {
			return false, err
		}
		for _, child := range back {
			if c.IDs[table].Has(child) || c.Refs[table][child] {
				return false, nil
			}
		}
	}
	for table, set := range d.keys {
		if len(set) == 0 {
			continue
		}
		t, _ := d.Plan.Schema.Table(table)
		keys := make([][]any, 0, len(set))
		for _, k := range set {
			keys = append(keys, k)
		}
		gone, err := d.notInFile(ctx, t, keys, c)
		if err != nil {
			return false, err
		}
		if len(gone) != len(keys) {
			return false, nil // some deleted row is one the file carries
		}
	}
	for k, ids := range d.setNull {
		t, ok := d.Plan.Schema.Table(k.table)
		if !ok || t.Ref(k.column) == nil {
			return false, nil
		}
		ref := t.Ref(k.column)
		found, err := d.rowsReferencing(ctx, t, ref, ref.Table, ids)
		if err != nil {
			return false, err
		}
		if len(found) == 0 {
			continue
		}
		gone, err := d.notInFile(ctx, t, found, c)
		if err != nil {
			return false, err
		}
		if len(gone) != len(found) && !d.overwrites(t, k.column) {
			return false, nil // SET NULL would change a row the file carries
		}
	}
	return true, nil
}

// notCarried queues mapped rows whose child IDs the file does not carry
// (within ranges, when given).
func (d *deleter) notCarried(ctx context.Context, t *schema.Table, c *plan.Contents, ranges [][2]int64) error {
	var gone []int64
	keep := func(p mapping.Pair) error {
		if !c.IDs[t.Name].Has(p.Child) {
			gone = append(gone, p.Master)
		}
		return nil
	}
	var err error
	if ranges == nil {
		err = d.Store.Scan(ctx, t.Name, keep)
	} else {
		err = d.Store.ScanRanges(ctx, t.Name, ranges, keep)
	}
	if err != nil {
		return err
	}
	return d.addMapped(t.Name, gone, "the file does not carry it")
}

// ownedNotCarried queues the owned rows of the file's (existing) owners
// that the owner's set in the file does not hold.
func (d *deleter) ownedNotCarried(ctx context.Context, t *schema.Table, c *plan.Contents) error {
	ref := t.Ref(t.Owner)
	owners, err := d.ownersWithRows(ctx, t, ref)
	if err != nil {
		return err
	}
	for _, owner := range owners {
		children := c.IDs[owner]
		if children.Empty() {
			continue
		}
		m, err := d.Store.Lookup(ctx, owner, children.IDs())
		if err != nil {
			return err
		}
		masters := make([]int64, 0, len(m))
		for _, id := range m {
			masters = append(masters, id)
		}
		if len(masters) == 0 {
			continue
		}
		found, err := d.rowsReferencing(ctx, t, ref, owner, masters)
		if err == nil && d.sharesRows(owner) {
			found, err = d.ownOnly(ctx, t, found, owner)
		}
		if err != nil {
			return err
		}
		gone, err := d.notInFile(ctx, t, found, c)
		if err != nil {
			return err
		}
		if err := d.addFound(t, gone, "its owner's set in the file does not include it"); err != nil {
			return err
		}
	}
	return nil
}

// snapshotKeysNotCarried queues a composite snapshot table's rows of the
// prefix that the file does not carry.
func (d *deleter) snapshotKeysNotCarried(ctx context.Context, t *schema.Table, c *plan.Contents) error {
	keys, err := d.prefixRows(ctx, t)
	if err != nil {
		return err
	}
	gone, err := d.notInFile(ctx, t, keys, c)
	if err != nil {
		return err
	}
	return d.addComposite(t.Name, gone, "the snapshot does not carry it")
}

// notInFile keeps the master rows (by key) whose child identity is not in
// the file: mapped rows by their mapping (unmapped ones are not the
// file's), composite rows by their key mapped back to child IDs.
func (d *deleter) notInFile(ctx context.Context, t *schema.Table, found [][]any, c *plan.Contents) ([][]any, error) {
	back, err := d.reverseMaps(ctx, t, found)
	if err != nil {
		return nil, err
	}
	var gone [][]any
	for _, k := range found {
		child, known := childKey(t, k, back)
		if !known || !c.Carries(t, child) {
			gone = append(gone, k)
		}
	}
	return gone, nil
}

// reverseMaps looks up, per key column that holds a mapped ID, the child
// IDs of the master IDs in found.
func (d *deleter) reverseMaps(ctx context.Context, t *schema.Table, found [][]any) (map[string]map[int64]int64, error) {
	back := map[string]map[int64]int64{}
	for i, col := range t.Key {
		target := t.Name
		if !t.Mapped {
			ref := t.Ref(col)
			if ref == nil || ref.Shared {
				continue
			}
			target = ref.Table
		}
		var ids []int64
		for _, k := range found {
			if id, err := plan.AsInt64(k[i]); err == nil {
				ids = append(ids, id)
			}
		}
		m, err := d.Store.LookupMaster(ctx, target, ids)
		if err != nil {
			return nil, err
		}
		back[col] = m
	}
	return back, nil
}

// childKey turns a master key into the child's; known is false when a part
// has no mapping of this prefix.
func childKey(t *schema.Table, key []any, back map[string]map[int64]int64) ([]any, bool) {
	child := make([]any, len(key))
	for i, col := range t.Key {
		m, isRef := back[col]
		if !isRef {
			child[i] = key[i]
			continue
		}
		id, _ := plan.AsInt64(key[i])
		c, ok := m[id]
		if !ok {
			return nil, false
		}
		child[i] = c
	}
	return child, true
}
