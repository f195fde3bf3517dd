package importer

import (
	"context"
	"errors"
	"fmt"
	"io"

	"tributary/mapping"
	"tributary/schema"
	"tributary/syncfile"
)

// A file is normally applied upserts first, deletions last, so that a row
// that moved (an email given to another contact, then the old contact
// deleted) keeps its master ID. That order fails when the child deleted a
// row and made a new one with the same unique value in one window (a tag
// removed and added again): the new row collides with the old one, which
// is still on the master. Such a file is tried once more with the
// deletions first; this file holds that second way.

// isUniqueConflict reports a duplicate-key error of the server.
func isUniqueConflict(err error) bool {
	var se *serverError
	return errors.As(err, &se) && se.number == 1062
}

// fileSets is what a file carries, by child IDs, read before applying it.
type fileSets struct {
	ids  map[string]*idSet          // mapped tables: child IDs
	keys map[string]map[string]bool // composite tables: encoded child keys
	live map[string][][2]int64      // track tables: live ranges
	// refs: per mapped table, the child IDs the file's rows reference
	// (collected only for pre-deletions).
	refs map[string]map[int64]bool
}

// prescan reads the whole file (verifying it) and collects its sets.
func prescan(ctx context.Context, path string, p *plan, opts *Options) (*fileSets, error) {
	return scanSets(ctx, path, p, opts, nil)
}

// scanSets is prescan; with refs set it also collects, per mapped table,
// the child IDs that the file's rows reference (see refsOf).
func scanSets(ctx context.Context, path string, p *plan, opts *Options, refs func(*tablePlan, *syncfile.Record, *fileSets) error) (*fileSets, error) {
	r, err := syncfile.Open(path, syncfile.ReaderOptions{SignKey: opts.SignKey})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	sets := &fileSets{ids: map[string]*idSet{}, keys: map[string]map[string]bool{}, live: map[string][][2]int64{}, refs: map[string]map[int64]bool{}}
	for n := 0; ; n++ {
		if n%10000 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		tp := p.tables[rec.Table]
		if err := sets.add(tp, rec); err != nil {
			return nil, err
		}
		if refs != nil && rec.Op != syncfile.OpLive {
			if err := refs(tp, rec, sets); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range sets.ids {
		s.seal()
	}
	return sets, nil
}

func (s *fileSets) add(tp *tablePlan, rec *syncfile.Record) error {
	name := tp.t.Name
	switch {
	case rec.Op == syncfile.OpLive:
		if _, ok := s.live[name]; !ok {
			s.live[name] = [][2]int64{}
		}
		s.live[name] = append(s.live[name], rec.Ranges...)
	case tp.t.Mapped:
		setOf(s.ids, name).add(rec.ID)
	default:
		r, err := tp.parseRow(rec)
		if err != nil {
			return err
		}
		if s.keys[name] == nil {
			s.keys[name] = map[string]bool{}
		}
		key := make([]any, len(tp.keyIdx))
		for i, k := range tp.keyIdx {
			key[i] = r.vals[k]
		}
		s.keys[name][encodeKey(key)] = true
	}
	return nil
}

// earlyDeletions deletes, before any upsert, every row the file deletes,
// judged by child IDs: track rows outside the live ranges, rows a full file
// or a snapshot does not carry, owned rows missing from their owner's set.
// Rows that moved are deleted too and come back with new master IDs.
func (f *fileRun) earlyDeletions(ctx context.Context, sets *fileSets) error {
	d, err := f.earlyPlan(ctx, sets)
	if err != nil {
		return err
	}
	return d.execute(ctx)
}

// earlyPlan finds, by child IDs, the rows the file deletes, and follows
// them to the rows deleting them takes along.
func (f *fileRun) earlyPlan(ctx context.Context, sets *fileSets) (*deleter, error) {
	d := newDeleter(f, false)
	full := f.plan.header.Mode == syncfile.ModeFull
	for _, tp := range f.plan.ordered {
		t := tp.t
		var err error
		switch {
		case t.Mapped && (full || t.Role == schema.RoleSnapshot):
			err = f.earlyNotCarried(ctx, d, t, sets, nil)
		case t.Mapped && t.Role == schema.RoleTrack:
			if ranges, ok := sets.live[t.Name]; ok {
				err = f.earlyNotCarried(ctx, d, t, sets, gaps(ranges))
			}
		case t.Role == schema.RoleSnapshot:
			err = f.earlySnapshotKeys(ctx, d, t, sets)
		}
		if err == nil && t.Role == schema.RoleOwner {
			err = f.earlyOwned(ctx, d, t, sets)
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

// preDeletions applies an incremental file's deletions before its upserts
// when doing so provably ends the same as applying them after: no row the
// file carries is deleted, set to NULL or otherwise touched by them, and
// no row of the file references a deleted row. Then a row the child
// deleted can no longer collide with a new row that took over its unique
// value in the same window, which upserts-first would only find by failing
// and applying the whole file again. When it is not provably the same,
// nothing is done here and the deletions run after the upserts as usual.
func (f *fileRun) preDeletions(ctx context.Context, path string) error {
	sets, err := scanSets(ctx, path, f.plan, f.opts, f.collectRefs)
	if err != nil {
		return err
	}
	if len(sets.live) == 0 && !f.plan.hasOwnedOrSnapshot() {
		return nil // the file can delete nothing
	}
	d, err := f.earlyPlan(ctx, sets)
	if err != nil {
		return err
	}
	if d.empty() {
		return nil
	}
	safe, err := f.preSafe(ctx, d, sets)
	if err != nil || !safe {
		return err
	}
	return d.execute(ctx)
}

// collectRefs adds the child IDs a row references to sets.refs. A row
// whose references cannot be read marks the file with a nil entry, which
// makes pre-deletions stand aside (the upserts will report the problem).
func (f *fileRun) collectRefs(tp *tablePlan, rec *syncfile.Record, sets *fileSets) error {
	r, err := tp.parseRow(rec)
	if err != nil {
		return err
	}
	w := &tableWriter{f: f, tp: tp}
	for i := range tp.cols {
		target, child, ok, err := w.refTarget(r, i)
		if err != nil {
			sets.refs[""] = nil
			continue
		}
		if !ok || target == "" {
			continue
		}
		m := sets.refs[target]
		if m == nil {
			m = map[int64]bool{}
			sets.refs[target] = m
		}
		m[child] = true
	}
	return nil
}

// overwrites reports whether setting column of t to NULL in a row the file
// carries, before the upserts, leaves no trace: the file's row sets that
// column itself (a mapped table whose column the file carries), and every
// trigger of the master is one whose effect on the file's rows is
// repaired (runRepairs), so the extra UPDATE changes nothing that stays.
func (f *fileRun) overwrites(t *schema.Table, column string) bool {
	tp := f.plan.tables[t.Name]
	if tp == nil || !t.Mapped || len(f.facts.opaque) > 0 {
		return false
	}
	_, carried := tp.index[column]
	return carried
}

func (p *plan) hasOwnedOrSnapshot() bool {
	for _, tp := range p.ordered {
		if tp.t.Role == schema.RoleOwner || tp.t.Role == schema.RoleSnapshot {
			return true
		}
	}
	return false
}

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
	return len(d.setNull) == 0
}

// preSafe reports whether the planned deletions leave every row the file
// carries alone: none is deleted, none is referenced by the file's rows,
// and no SET NULL of them changes a row the file carries, unless the
// file's row then sets that column anyway (see overwrites).
func (f *fileRun) preSafe(ctx context.Context, d *deleter, sets *fileSets) (bool, error) {
	if _, bad := sets.refs[""]; bad {
		return false, nil
	}
	for table, set := range d.ids {
		if len(set) == 0 {
			continue
		}
		back, err := f.store.LookupMaster(ctx, table, sortedIDs(set))
		if err != nil {
			return false, err
		}
		for _, child := range back {
			if sets.ids[table].has(child) || sets.refs[table][child] {
				return false, nil
			}
		}
	}
	for table, set := range d.keys {
		if len(set) == 0 {
			continue
		}
		t, _ := f.plan.s.Table(table)
		keys := make([][]any, 0, len(set))
		for _, k := range set {
			keys = append(keys, k)
		}
		gone, err := f.notInFile(ctx, t, keys, sets)
		if err != nil {
			return false, err
		}
		if len(gone) != len(keys) {
			return false, nil // some deleted row is one the file carries
		}
	}
	for k, ids := range d.setNull {
		t, ok := f.plan.s.Table(k.table)
		if !ok || t.Ref(k.column) == nil {
			return false, nil
		}
		ref := t.Ref(k.column)
		found, err := f.rowsReferencing(ctx, t, ref, ref.Table, ids)
		if err != nil {
			return false, err
		}
		if len(found) == 0 {
			continue
		}
		gone, err := f.notInFile(ctx, t, found, sets)
		if err != nil {
			return false, err
		}
		if len(gone) != len(found) && !f.overwrites(t, k.column) {
			return false, nil // SET NULL would change a row the file carries
		}
	}
	return true, nil
}

// earlyNotCarried queues mapped rows whose child IDs the file does not
// carry (within ranges, when given).
func (f *fileRun) earlyNotCarried(ctx context.Context, d *deleter, t *schema.Table, sets *fileSets, ranges [][2]int64) error {
	var gone []int64
	keep := func(p mapping.Pair) error {
		if !sets.ids[t.Name].has(p.Child) {
			gone = append(gone, p.Master)
		}
		return nil
	}
	var err error
	if ranges == nil {
		err = f.store.Scan(ctx, t.Name, keep)
	} else {
		err = f.store.ScanRanges(ctx, t.Name, ranges, keep)
	}
	if err != nil {
		return err
	}
	return d.addMapped(t.Name, gone, "the file does not carry it")
}

// earlyOwned queues the owned rows of the file's (existing) owners that
// the owner's set in the file does not hold.
func (f *fileRun) earlyOwned(ctx context.Context, d *deleter, t *schema.Table, sets *fileSets) error {
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
		children := sets.ids[owner]
		if children.empty() {
			continue
		}
		m, err := f.store.Lookup(ctx, owner, children.ids())
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
		found, err := f.rowsReferencing(ctx, t, ref, owner, masters)
		if err != nil {
			return err
		}
		gone, err := f.notInFile(ctx, t, found, sets)
		if err != nil {
			return err
		}
		if err := d.addFound(t, gone, "its owner's set in the file does not include it"); err != nil {
			return err
		}
	}
	return nil
}

// earlySnapshotKeys queues a composite snapshot table's rows of the prefix
// that the file does not carry.
func (f *fileRun) earlySnapshotKeys(ctx context.Context, d *deleter, t *schema.Table, sets *fileSets) error {
	keys, err := f.prefixRows(ctx, t)
	if err != nil {
		return err
	}
	gone, err := f.notInFile(ctx, t, keys, sets)
	if err != nil {
		return err
	}
	return d.addComposite(t.Name, gone, "the snapshot does not carry it")
}

// notInFile keeps the master rows (by key) whose child identity is not in
// the file: mapped rows by their mapping (unmapped ones are not the
// file's), composite rows by their key mapped back to child IDs.
func (f *fileRun) notInFile(ctx context.Context, t *schema.Table, found [][]any, sets *fileSets) ([][]any, error) {
	back, err := f.reverseMaps(ctx, t, found)
	if err != nil {
		return nil, err
	}
	var gone [][]any
	for _, k := range found {
		child, known := childKey(t, k, back)
		switch {
		case !known:
			gone = append(gone, k)
		case t.Mapped && !sets.ids[t.Name].has(child[0].(int64)):
			gone = append(gone, k)
		case !t.Mapped && !sets.keys[t.Name][encodeKey(child)]:
			gone = append(gone, k)
		}
	}
	return gone, nil
}

// reverseMaps looks up, per key column that holds a mapped ID, the child
// IDs of the master IDs in found.
func (f *fileRun) reverseMaps(ctx context.Context, t *schema.Table, found [][]any) (map[string]map[int64]int64, error) {
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
			if id, err := asInt64(k[i]); err == nil {
				ids = append(ids, id)
			}
		}
		m, err := f.store.LookupMaster(ctx, target, ids)
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
		id, _ := asInt64(key[i])
		c, ok := m[id]
		if !ok {
			return nil, false
		}
		child[i] = c
	}
	return child, true
}
