// Package reconcile makes the master's rows of a prefix agree with what a
// file says is gone (DESIGN.md section 5, steps 5 and 6): track rows
// outside the live ranges, owned rows missing from their owner's set,
// snapshot rows the file does not carry, a full file's every row it does
// not carry; and whatever deleting those took along on the child (owned
// rows, ON DELETE CASCADE and SET NULL). Deletions normally run after the
// upserts (After, from what the first pass carried); before them when the
// file is applied with its deletions first (First) or when that provably
// ends the same (Early); --rebuild deletes everything first (Rebuild).
// CheckMassDelete refuses a file that deletes too much of a prefix.
package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/importer/reject"
	"tributary/importer/repair"
	"tributary/importer/write"
	"tributary/mapping"
	"tributary/schema"
)

// Target is what deletions run against: the file's transaction and its
// prefix's mapping, the file's plan and what the master's triggers do. It
// holds no state of its own; each step returns what it deleted.
type Target struct {
	Tx    *masterdb.Tx
	Store *mapping.Store
	Plan  *plan.Plan
	Facts *repair.Facts
}

// deleter gathers the master rows a file deletes, follows what deleting
// them did on the child (owned rows go with their owner; ON DELETE CASCADE
// and SET NULL of the child's foreign keys), and then deletes children
// before parents, each with its mapping. It never relies on the master's
// own foreign keys to do this, so no mapping row is ever left pointing at
// a row that a foreign key removed behind its back.
type deleter struct {
	Target
	ids     map[string]map[int64]bool   // mapped tables: master IDs
	keys    map[string]map[string][]any // composite tables: encoded key -> key
	queue   []deleteWork
	setNull map[nullTarget][]int64
	// released: mapped tables with match keys: master IDs of shared rows
	// that stay on the master; only this prefix's mapping of them goes.
	released map[string]map[int64]bool
	// setNullRows: SET NULL effects of released rows, by the master IDs of
	// this prefix's rows that reference them (other prefixes' rows keep
	// their references).
	setNullRows map[nullTarget][]int64
	holders     []holderChange
	// carried, when set, is what the file carries: such a row must not be
	// deleted; if it would be, the file contradicts itself and is rejected.
	carried *write.Carried
	counts  plan.Counts
	// owning: per table with a polymorphic owner column, the owner tables
	// its rows name on the master (ownersWithRows).
	owning map[string]map[string]bool
}

type deleteWork struct {
	table string
	ids   []int64
	why   string
}

type nullTarget struct{ table, column string }

func (t Target) deleter(carried *write.Carried) *deleter {
	return &deleter{Target: t, ids: map[string]map[int64]bool{}, keys: map[string]map[string][]any{},
		setNull: map[nullTarget][]int64{}, carried: carried, counts: plan.Counts{},
		released: map[string]map[int64]bool{}, setNullRows: map[nullTarget][]int64{}}
}

// addMapped queues master IDs of a mapped table for deletion.
func (d *deleter) addMapped(table string, ids []int64, why string) error {
	set := d.ids[table]
	if set == nil {
		set = map[int64]bool{}
		d.ids[table] = set
	}
	var fresh []int64
	for _, id := range ids {
		if set[id] || d.released[table][id] {
			continue
		}
		if d.carried != nil && d.carried.Sent[table].Has(id) {
			return reject.Errorf(reject.ErrInconsistent, "table %s: master ID %d is in the file but would be deleted (%s): the file contradicts itself; run `tributary export --full` on the child", table, id, why)
		}
		set[id] = true
		fresh = append(fresh, id)
	}
	if len(fresh) > 0 {
		d.queue = append(d.queue, deleteWork{table: table, ids: fresh, why: why})
	}
	return nil
}

// addComposite queues rows of a composite-key table by their master keys.
func (d *deleter) addComposite(table string, keys [][]any, why string) error {
	set := d.keys[table]
	if set == nil {
		set = map[string][]any{}
		d.keys[table] = set
	}
	for _, k := range keys {
		enc := plan.EncodeKey(k)
		if d.carried != nil && d.carried.SentKeys[table][enc] {
			return reject.Errorf(reject.ErrInconsistent, "table %s: a row is in the file but would be deleted (%s): the file contradicts itself; run `tributary export --full` on the child", table, why)
		}
		set[enc] = k
	}
	return nil
}

// addFound queues rows read back by their key columns.
func (d *deleter) addFound(r *schema.Table, found [][]any, why string) error {
	if !r.Mapped {
		return d.addComposite(r.Name, found, why)
	}
	ids := make([]int64, 0, len(found))
	for _, k := range found {
		id, err := plan.AsInt64(k[0])
		if err != nil {
			return fmt.Errorf("table %s: %w", r.Name, err)
		}
		ids = append(ids, id)
	}
	return d.addMapped(r.Name, ids, why)
}

// empty reports whether nothing is queued.
func (d *deleter) empty() bool {
	for _, ids := range d.ids {
		if len(ids) > 0 {
			return false
		}
	}
	for _, keys := range d.keys {
		if len(keys) > 0 {
			return false
		}
	}
	for _, ids := range d.released {
		if len(ids) > 0 {
			return false
		}
	}
	return len(d.setNull) == 0
}

// expand follows every queued deletion to the rows it takes along.
func (d *deleter) expand(ctx context.Context) error {
	for len(d.queue) > 0 {
		w := d.queue[0]
		d.queue = d.queue[1:]
		w, released, err := d.release(ctx, w)
		if err != nil {
			return err
		}
		for _, r := range d.Plan.Schema.Tables {
			for _, ref := range r.Refs {
				if err := d.follow(ctx, w, r, ref, false); err != nil {
					return err
				}
				if len(released) == 0 {
					continue
				}
				if err := d.follow(ctx, deleteWork{table: w.table, ids: released, why: w.why}, r, ref, true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// follow applies one reference's consequence of deleting w's rows.
// With own set, w's rows are shared rows that stay: only this prefix's
// rows referencing them follow.
func (d *deleter) follow(ctx context.Context, w deleteWork, r *schema.Table, ref *schema.Reference, own bool) error {
	if len(w.ids) == 0 || ref.Shared || (!ref.Polymorphic() && ref.Table != w.table) {
		return nil
	}
	owned := r.Role == schema.RoleOwner && ref.Column == r.Owner
	switch {
	case owned || ref.OnDelete == "CASCADE":
		why := fmt.Sprintf("%s.%s references a deleted %s row (ON DELETE CASCADE)", r.Name, ref.Column, w.table)
		if owned {
			why = fmt.Sprintf("its owner, a %s row, is deleted", w.table)
		}
		found, err := d.rowsReferencing(ctx, r, ref, w.table, w.ids)
		if err == nil && own {
			found, err = d.ownOnly(ctx, r, found, w.table)
		}
		if err != nil {
			return fmt.Errorf("find %s rows referencing deleted %s rows: %w", r.Name, w.table, err)
		}
		return d.addFound(r, found, why)
	case ref.OnDelete == "SET NULL" && !ref.Polymorphic() && own:
		if !r.Mapped {
			return nil
		}
		found, err := d.rowsReferencing(ctx, r, ref, w.table, w.ids)
		if err == nil {
			found, err = d.ownOnly(ctx, r, found, w.table)
		}
		if err != nil {
			return fmt.Errorf("find %s rows referencing released %s rows: %w", r.Name, w.table, err)
		}
		key := nullTarget{r.Name, ref.Column}
		for _, k := range found {
			id, err := plan.AsInt64(k[0])
			if err != nil {
				return fmt.Errorf("table %s: %w", r.Name, err)
			}
			d.setNullRows[key] = append(d.setNullRows[key], id)
		}
	case ref.OnDelete == "SET NULL" && !ref.Polymorphic():
		key := nullTarget{r.Name, ref.Column}
		d.setNull[key] = append(d.setNull[key], w.ids...)
	}
	return nil
}

// rowsReferencing returns the keys of t's rows whose column ref points at
// one of ids of table target (a polymorphic column: with target named by
// its discriminator).
func (t Target) rowsReferencing(ctx context.Context, table *schema.Table, ref *schema.Reference, target string, ids []int64) ([][]any, error) {
	var found [][]any
	err := masterdb.Padded(ids, func(chunk []any) error {
		var q string
		var args []any
		var err error
		if ref.Polymorphic() {
			q, args, err = masterdb.SelectPolyIn(table.Name, table.Key, ref.Column, chunk, ref.TableFrom, target)
		} else {
			q, args, err = masterdb.SelectIn(table.Name, table.Key, ref.Column, chunk)
		}
		if err != nil {
			return err
		}
		return t.Tx.Query(ctx, q, args, masterdb.ScanKey(len(table.Key), &found))
	})
	return found, err
}

// execute runs the deletions: first the SET NULL effects, then breaks
// cycles by clearing deferred references of doomed rows, then deletes each
// table's rows (and mappings) in reverse apply order, children first, so
// the master's foreign-key checks stay satisfied throughout. It returns
// the rows deleted per table.
func (d *deleter) execute(ctx context.Context) (plan.Counts, error) {
	if err := d.changeHolders(ctx); err != nil {
		return nil, err
	}
	if err := d.runSetNull(ctx); err != nil {
		return nil, err
	}
	tables := d.Plan.Schema.Tables
	for _, t := range tables {
		if err := d.clearDeferred(ctx, t); err != nil {
			return nil, err
		}
	}
	for i := len(tables) - 1; i >= 0; i-- {
		if err := d.deleteTable(ctx, tables[i]); err != nil {
			return nil, err
		}
	}
	return d.counts, nil
}

func (d *deleter) runSetNull(ctx context.Context) error {
	for _, k := range sortedTargets(d.setNull) {
		if err := d.setNullIn(ctx, k, k.column, d.setNull[k]); err != nil {
			return fmt.Errorf("set %s.%s to NULL for deleted rows: %w", k.table, k.column, err)
		}
	}
	for _, k := range sortedTargets(d.setNullRows) {
		t, _ := d.Plan.Schema.Table(k.table)
		if err := d.setNullIn(ctx, k, t.Key[0], d.setNullRows[k]); err != nil {
			return fmt.Errorf("set %s.%s to NULL for released shared rows: %w", k.table, k.column, err)
		}
	}
	return nil
}

// setNullIn sets column k of the rows of table k whose column in holds
// one of ids to NULL, a chunk of IDs per statement.
func (d *deleter) setNullIn(ctx context.Context, k nullTarget, in string, ids []int64) error {
	return masterdb.Padded(ids, func(chunk []any) error {
		q, args, err := masterdb.SetNullIn(k.table, []string{k.column}, in, chunk, d.Facts.AutoUpdate(k.table))
		if err != nil {
			return err
		}
		_, err = d.Tx.Exec(ctx, q, args)
		return err
	})
}

// sortedTargets lists the columns to set to NULL in a fixed order, so
// that two imports take their row locks in the same order.
func sortedTargets(m map[nullTarget][]int64) []nullTarget {
	targets := make([]nullTarget, 0, len(m))
	for k := range m {
		targets = append(targets, k)
	}
	sort.Slice(targets, func(i, j int) bool {
		if targets[i].table != targets[j].table {
			return targets[i].table < targets[j].table
		}
		return targets[i].column < targets[j].column
	})
	return targets
}

// clearDeferred sets the deferred references of rows about to be deleted
// to NULL: they may point at rows deleted earlier in the same pass.
func (d *deleter) clearDeferred(ctx context.Context, t *schema.Table) error {
	var cols []string
	for _, ref := range t.Refs {
		if ref.Deferred && !ref.Polymorphic() && !ref.Shared && ref.Nullable {
			cols = append(cols, ref.Column)
		}
	}
	ids := sortedIDs(d.ids[t.Name])
	if len(cols) == 0 || len(ids) == 0 || !t.Mapped {
		return nil
	}
	err := masterdb.Padded(ids, func(chunk []any) error {
		q, args, err := masterdb.SetNullIn(t.Name, cols, t.Key[0], chunk, d.Facts.AutoUpdate(t.Name))
		if err != nil {
			return err
		}
		_, err = d.Tx.Exec(ctx, q, args)
		return err
	})
	if err != nil {
		return fmt.Errorf("table %s: clear references before deleting: %w", t.Name, err)
	}
	return nil
}

func (d *deleter) deleteTable(ctx context.Context, t *schema.Table) error {
	if !t.Mapped {
		return d.deleteComposite(ctx, t)
	}
	ids := sortedIDs(d.ids[t.Name])
	if released := sortedIDs(d.released[t.Name]); len(released) > 0 {
		if _, err := d.Store.DeleteMaster(ctx, t.Name, released); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var deleted int64
	err := masterdb.Padded(ids, func(chunk []any) error {
		q, args, err := masterdb.DeleteIn(t.Name, t.Key[0], chunk)
		if err != nil {
			return err
		}
		n, err := d.Tx.Exec(ctx, q, args)
		deleted += n
		return err
	})
	if err != nil {
		return fmt.Errorf("table %s: delete: %w", t.Name, err)
	}
	if _, err := d.Store.DeleteMaster(ctx, t.Name, ids); err != nil {
		return err
	}
	d.counts.Of(t.Name).Deleted += deleted
	return nil
}

func (d *deleter) deleteComposite(ctx context.Context, t *schema.Table) error {
	set := d.keys[t.Name]
	if len(set) == 0 {
		return nil
	}
	encs := make([]string, 0, len(set))
	for enc := range set {
		encs = append(encs, enc)
	}
	sort.Strings(encs)
	keys := make([][]any, len(encs))
	for i, enc := range encs {
		keys[i] = set[enc]
	}
	var deleted int64
	err := masterdb.PaddedKeys(keys, func(chunk [][]any) error {
		q, args, err := masterdb.DeleteKeys(t.Name, t.Key, chunk)
		if err != nil {
			return err
		}
		n, err := d.Tx.Exec(ctx, q, args)
		deleted += n
		return err
	})
	if err != nil {
		return fmt.Errorf("table %s: delete: %w", t.Name, err)
	}
	d.counts.Of(t.Name).Deleted += deleted
	return nil
}

func sortedIDs(set map[int64]bool) []int64 {
	ids := make([]int64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// ownersWithRows returns the owner tables of owned table t whose rows may
// own rows of t on the master. For a polymorphic owner column (a tag's
// entity_id, named by entity_table) in a full file, that is only the
// tables some row of t names: one scan of t instead of a look-up per
// chunk of every synced table's rows, most of which own no tags at all.
// An incremental file's owners are few, and a scan would cost what the
// table holds, not what the file brings: it asks every owner table.
func (d *deleter) ownersWithRows(ctx context.Context, t *schema.Table, ref *schema.Reference) ([]string, error) {
	owners := d.Plan.Owners(t)
	if ref == nil || !ref.Polymorphic() || len(owners) < 2 || !d.Plan.Full() {
		return owners, nil
	}
	named, ok := d.owning[t.Name]
	if !ok {
		q, args, err := masterdb.DiscriminatorMatches(t.Name, ref.TableFrom, owners)
		if err != nil {
			return nil, err
		}
		named = map[string]bool{}
		err = d.Tx.Query(ctx, q, args, func(scan func(...any) error) error {
			matches := make([]int64, len(owners))
			dest := make([]any, len(owners))
			for i := range matches {
				dest[i] = &matches[i]
			}
			if err := scan(dest...); err != nil {
				return err
			}
			for i, m := range matches {
				if m != 0 {
					named[owners[i]] = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("table %s: read which tables own its rows: %w", t.Name, err)
		}
		if d.owning == nil {
			d.owning = map[string]map[string]bool{}
		}
		d.owning[t.Name] = named
	}
	var present []string
	for _, owner := range owners {
		if named[owner] {
			present = append(present, owner)
		}
	}
	return present, nil
}
