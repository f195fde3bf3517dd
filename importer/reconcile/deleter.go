package importer

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"tributary/schema"
)

// deleter gathers the master rows a file deletes, follows what deleting
// them did on the child (owned rows go with their owner; ON DELETE CASCADE
// and SET NULL of the child's foreign keys), and then deletes children
// before parents, each with its mapping. It never relies on the master's
// own foreign keys to do this, so no mapping row is ever left pointing at
// a row that a foreign key removed behind its back.
type deleter struct {
	f       *fileRun
	ids     map[string]map[int64]bool   // mapped tables: master IDs
	keys    map[string]map[string][]any // composite tables: encoded key -> key
	queue   []deleteWork
	setNull map[nullTarget][]int64
	// protect: a row the file carries must not be deleted; if it would be,
	// the file contradicts itself and is rejected.
	protect bool
}

type deleteWork struct {
	table string
	ids   []int64
	why   string
}

type nullTarget struct{ table, column string }

func newDeleter(f *fileRun, protect bool) *deleter {
	return &deleter{f: f, ids: map[string]map[int64]bool{}, keys: map[string]map[string][]any{}, setNull: map[nullTarget][]int64{}, protect: protect}
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
		if set[id] {
			continue
		}
		if d.protect && d.f.sent[table].has(id) {
			return rejectf(ErrInconsistent, "table %s: master ID %d is in the file but would be deleted (%s): the file contradicts itself; run `tributary export --full` on the child", table, id, why)
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
		enc := encodeKey(k)
		if d.protect && d.f.sentKeys[table][enc] {
			return rejectf(ErrInconsistent, "table %s: a row is in the file but would be deleted (%s): the file contradicts itself; run `tributary export --full` on the child", table, why)
		}
		set[enc] = k
	}
	return nil
}

// expand follows every queued deletion to the rows it takes along.
func (d *deleter) expand(ctx context.Context) error {
	for len(d.queue) > 0 {
		w := d.queue[0]
		d.queue = d.queue[1:]
		for _, r := range d.f.plan.s.Tables {
			for _, ref := range r.Refs {
				if err := d.follow(ctx, w, r, ref); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// follow applies one reference's consequence of deleting w's rows.
func (d *deleter) follow(ctx context.Context, w deleteWork, r *schema.Table, ref *schema.Reference) error {
	if ref.Shared || (!ref.Polymorphic() && ref.Table != w.table) {
		return nil
	}
	owned := r.Role == schema.RoleOwner && ref.Column == r.Owner
	switch {
	case owned || ref.OnDelete == "CASCADE":
		why := fmt.Sprintf("%s.%s references a deleted %s row (ON DELETE CASCADE)", r.Name, ref.Column, w.table)
		if owned {
			why = fmt.Sprintf("its owner, a %s row, is deleted", w.table)
		}
		return d.referencing(ctx, r, ref, w.table, w.ids, why)
	case ref.OnDelete == "SET NULL" && !ref.Polymorphic():
		key := nullTarget{r.Name, ref.Column}
		d.setNull[key] = append(d.setNull[key], w.ids...)
	}
	return nil
}

// referencing queues the rows of r whose column ref points at ids of target.
func (d *deleter) referencing(ctx context.Context, r *schema.Table, ref *schema.Reference, target string, ids []int64, why string) error {
	found, err := d.f.rowsReferencing(ctx, r, ref, target, ids)
	if err != nil {
		return fmt.Errorf("find %s rows referencing deleted %s rows: %w", r.Name, target, err)
	}
	return d.addFound(r, found, why)
}

// rowsReferencing returns the keys of t's rows whose column ref points at
// one of ids of table target (a polymorphic column: with target named by
// its discriminator).
func (f *fileRun) rowsReferencing(ctx context.Context, t *schema.Table, ref *schema.Reference, target string, ids []int64) ([][]any, error) {
	var found [][]any
	err := padded(ids, func(size int, args []any) error {
		var q string
		var err error
		if ref.Polymorphic() {
			q, err = selectPolySQL(t.Name, t.Key, ref.TableFrom, ref.Column, size)
		} else {
			q, err = selectInSQL(t.Name, t.Key, ref.Column, size)
		}
		if err != nil {
			return err
		}
		if ref.Polymorphic() {
			args = append(args, target)
		}
		return f.query(ctx, q, args, scanKey(len(t.Key), &found))
	})
	return found, err
}

// addFound queues rows read back by their key columns.
func (d *deleter) addFound(r *schema.Table, found [][]any, why string) error {
	if !r.Mapped {
		return d.addComposite(r.Name, found, why)
	}
	ids := make([]int64, 0, len(found))
	for _, k := range found {
		id, err := asInt64(k[0])
		if err != nil {
			return fmt.Errorf("table %s: %w", r.Name, err)
		}
		ids = append(ids, id)
	}
	return d.addMapped(r.Name, ids, why)
}

// scanKey returns a row callback that collects key tuples into out.
func scanKey(n int, out *[][]any) func(scan func(...any) error) error {
	return func(scan func(...any) error) error {
		key := make([]any, n)
		ptrs := make([]any, n)
		for i := range key {
			ptrs[i] = &key[i]
		}
		if err := scan(ptrs...); err != nil {
			return err
		}
		*out = append(*out, key)
		return nil
	}
}

func asInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case uint64:
		return int64(x), nil
	case []byte:
		var n int64
		_, err := fmt.Sscan(string(x), &n)
		return n, err
	}
	return 0, fmt.Errorf("unexpected key value of type %T", v)
}

// execute runs the deletions: first the SET NULL effects, then breaks
// cycles by clearing deferred references of doomed rows, then deletes each
// table's rows (and mappings) in reverse apply order, children first, so
// the master's foreign-key checks stay satisfied throughout.
func (d *deleter) execute(ctx context.Context) error {
	if err := d.runSetNull(ctx); err != nil {
		return err
	}
	tables := d.f.plan.s.Tables
	for _, t := range tables {
		if err := d.clearDeferred(ctx, t); err != nil {
			return err
		}
	}
	for i := len(tables) - 1; i >= 0; i-- {
		if err := d.deleteTable(ctx, tables[i]); err != nil {
			return err
		}
	}
	return nil
}

func (d *deleter) runSetNull(ctx context.Context) error {
	targets := make([]nullTarget, 0, len(d.setNull))
	for k := range d.setNull {
		targets = append(targets, k)
	}
	sort.Slice(targets, func(i, j int) bool {
		if targets[i].table != targets[j].table {
			return targets[i].table < targets[j].table
		}
		return targets[i].column < targets[j].column
	})
	for _, k := range targets {
		err := padded(d.setNull[k], func(size int, args []any) error {
			q, err := setNullInSQL(k.table, []string{k.column}, k.column, size)
			if err != nil {
				return err
			}
			_, err = d.f.exec(ctx, d.keepAuto(q, k.table, []string{k.column}), args)
			return err
		})
		if err != nil {
			return fmt.Errorf("set %s.%s to NULL for deleted rows: %w", k.table, k.column, err)
		}
	}
	return nil
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
	err := padded(ids, func(size int, args []any) error {
		q, err := setNullInSQL(t.Name, cols, t.Key[0], size)
		if err != nil {
			return err
		}
		_, err = d.f.exec(ctx, d.keepAuto(q, t.Name, cols), args)
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
	if len(ids) == 0 {
		return nil
	}
	var deleted int64
	err := padded(ids, func(size int, args []any) error {
		q, err := deleteInSQL(t.Name, t.Key[0], size)
		if err != nil {
			return err
		}
		n, err := d.f.exec(ctx, q, args)
		deleted += n
		return err
	})
	if err != nil {
		return fmt.Errorf("table %s: delete: %w", t.Name, err)
	}
	if _, err := d.f.store.DeleteMaster(ctx, t.Name, ids); err != nil {
		return err
	}
	d.f.tableStats(t.Name).Deleted += deleted
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
	err := paddedKeys(keys, func(size int, args []any) error {
		q, err := deleteKeysSQL(t.Name, t.Key, size)
		if err != nil {
			return err
		}
		n, err := d.f.exec(ctx, q, args)
		deleted += n
		return err
	})
	if err != nil {
		return fmt.Errorf("table %s: delete: %w", t.Name, err)
	}
	d.f.tableStats(t.Name).Deleted += deleted
	return nil
}

// keepAuto makes a partial UPDATE leave the table's ON UPDATE
// CURRENT_TIMESTAMP columns alone, as the child's foreign-key actions do.
func (d *deleter) keepAuto(q, table string, setting []string) string {
	if keep := d.f.facts.keepAutoUpdate(table, setting); keep != "" {
		return strings.Replace(q, " WHERE ", keep+" WHERE ", 1)
	}
	return q
}

func sortedIDs(set map[int64]bool) []int64 {
	ids := make([]int64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
