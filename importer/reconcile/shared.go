package reconcile

import (
	"context"
	"fmt"
	"slices"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/mapping"
	"tributary/schema"
)

// Rows shared through a match policy (DESIGN.md section 3): deleting one
// on a child removes only that child's mapping, and the rows of that
// child that went with it on the child; the master row goes only when no
// prefix maps to it any more and a prefix, not the master, created it.
// When its creator lets go of a row others still map, the first of those
// (by prefix) becomes its creator.

// release takes from w the rows of a table with match keys that stay on
// the master (other prefixes map them, or the master held them first) and
// returns them: only this prefix's mapping of them goes. It locks every
// row of w first, so that an import matching one of them meanwhile either
// finished (and is seen here) or waits for this one.
func (d *deleter) release(ctx context.Context, w deleteWork) (deleteWork, []int64, error) {
	t, ok := d.Plan.Schema.Table(w.table)
	if !ok || !t.Mapped || len(t.PolicyKeys(schema.PolicyMatch)) == 0 || len(w.ids) == 0 {
		return w, nil, nil
	}
	err := masterdb.Padded(w.ids, func(chunk []any) error {
		q, args, err := masterdb.LockIn(t.Name, t.Key[0], chunk)
		if err != nil {
			return err
		}
		return d.Tx.Query(ctx, q, args, func(scan func(...any) error) error { return nil })
	})
	if err != nil {
		return w, nil, fmt.Errorf("table %s: lock shared rows before deleting: %w", t.Name, err)
	}
	q := d.Tx.SQL()
	creators, err := mapping.Creators(ctx, q, t.Name, w.ids)
	if err != nil || len(creators) == 0 {
		return w, nil, err
	}
	shared := make([]int64, 0, len(creators))
	for id := range creators {
		shared = append(shared, id)
	}
	slices.Sort(shared)
	prefix := d.Plan.Header.Prefix
	mappers, err := mapping.Mappers(ctx, q, prefix, t.Name, shared)
	if err != nil {
		return w, nil, err
	}
	keep := map[int64]bool{}
	for _, id := range shared {
		others, creator := mappers[id], creators[id]
		switch {
		case len(others) > 0:
			keep[id] = true
			if creator == prefix {
				d.holders = append(d.holders, holderChange{table: t.Name, id: id, creator: others[0]})
			}
		case creator == "":
			keep[id] = true
			d.holders = append(d.holders, holderChange{table: t.Name, id: id, unshare: true})
		default:
			d.holders = append(d.holders, holderChange{table: t.Name, id: id, unshare: true})
		}
	}
	if len(keep) == 0 {
		return w, nil, nil
	}
	var gone, kept []int64
	for _, id := range w.ids {
		if keep[id] {
			kept = append(kept, id)
			delete(d.ids[t.Name], id)
			d.releasedOf(t.Name)[id] = true
		} else {
			gone = append(gone, id)
		}
	}
	w.ids = gone
	return w, kept, nil
}

// holderChange is a change to tributary_holders that the deletions make
// when they run (execute), not when they are planned: a plan may be
// dropped (Early) and made again.
type holderChange struct {
	table   string
	id      int64
	creator string // the new creator (a handover)
	unshare bool   // the row is shared no more
}

// changeHolders applies the planned changes to tributary_holders.
func (d *deleter) changeHolders(ctx context.Context) error {
	q := d.Tx.SQL()
	for _, c := range d.holders {
		var err error
		if c.unshare {
			err = mapping.Unshare(ctx, q, c.table, []int64{c.id})
		} else {
			err = mapping.HandOver(ctx, q, c.table, c.id, c.creator)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *deleter) releasedOf(table string) map[int64]bool {
	if d.released[table] == nil {
		d.released[table] = map[int64]bool{}
	}
	return d.released[table]
}

// sharesRows reports whether rows of table may be shared by prefixes.
func (d *deleter) sharesRows(table string) bool {
	t, ok := d.Plan.Schema.Table(table)
	return ok && t.Mapped && len(t.PolicyKeys(schema.PolicyMatch)) > 0
}

// ownOnly keeps the rows of r (by key) that belong to this prefix: a
// shared row is referenced by the rows of every prefix that maps it, and
// only this prefix's go with it. A mapped row is this prefix's when its
// mapping table maps it; a composite row when a key column other than the
// one pointing at from (the shared table) points at a row it maps. A
// composite row with no such column cannot be told apart, and is kept off
// the list.
func (t Target) ownOnly(ctx context.Context, r *schema.Table, found [][]any, from string) ([][]any, error) {
	if len(found) == 0 {
		return found, nil
	}
	col, entity := 0, r.Name
	if !r.Mapped {
		col = -1
		for i, k := range r.Key {
			ref := r.Ref(k)
			if ref == nil || ref.Shared || ref.Polymorphic() || ref.Table == from {
				continue
			}
			if target, ok := t.Plan.Schema.Table(ref.Table); ok && target.Mapped {
				col, entity = i, ref.Table
				break
			}
		}
		if col < 0 {
			return nil, nil
		}
	}
	ids := make([]int64, 0, len(found))
	for _, k := range found {
		id, err := plan.AsInt64(k[col])
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", r.Name, err)
		}
		ids = append(ids, id)
	}
	mine, err := t.Store.LookupMaster(ctx, entity, ids)
	if err != nil {
		return nil, err
	}
	var out [][]any
	for i, k := range found {
		if _, ok := mine[ids[i]]; ok {
			out = append(out, k)
		}
	}
	return out, nil
}
