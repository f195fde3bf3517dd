package export

import (
	"context"
	"fmt"
	"slices"

	"tributary/schema"
)

// idSet is a set of row IDs.
type idSet map[int64]struct{}

func (s idSet) has(id int64) bool { _, ok := s[id]; return ok }

func (s idSet) sorted() []int64 {
	ids := make([]int64, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// selection says which rows of each table go into the file. A full file
// takes every table whole and holds no IDs; an incremental one holds the
// IDs it picked, which is bounded by the window, not by the tables.
type selection struct {
	whole  map[*schema.Table]bool
	ids    map[*schema.Table]idSet            // mapped tables that are not whole
	owners map[*schema.Table]map[string]idSet // composite-key owner tables: owner table -> owner IDs
}

func newSelection(s *schema.Schema, full bool, det *detection) *selection {
	sel := &selection{whole: map[*schema.Table]bool{}, ids: map[*schema.Table]idSet{}, owners: map[*schema.Table]map[string]idSet{}}
	for _, t := range s.Tables {
		sel.whole[t] = full || (isWhole(s, t, 0) && !det.leavesOut(t))
	}
	return sel
}

// isWhole: snapshot tables go whole every time, and so do the tables they
// own through a plain reference, down the chain.
func isWhole(s *schema.Schema, t *schema.Table, depth int) bool {
	switch {
	case t.Role == schema.RoleSnapshot:
		return true
	case t.Role != schema.RoleOwner || depth > len(s.Tables):
		return false
	}
	ref := t.Ref(t.Owner)
	if ref == nil || ref.Polymorphic() {
		return false
	}
	owner, ok := s.Table(ref.Table)
	return ok && isWhole(s, owner, depth+1)
}

// closer picks an incremental file's rows and closes them under references
// (DESIGN.md section 2): every reference in the file must point at a row in
// the file or in an earlier file of the prefix.
type closer struct {
	q      querier
	s      *schema.Schema
	sel    *selection
	bounds map[*schema.Table]trackBounds
	owned  map[*schema.Table][]*schema.Table // table -> the owner tables whose owner it may be
	queue  map[*schema.Table][]int64         // picked rows whose references and owned rows are not yet followed
	refs   map[*schema.Table][]int64         // referenced rows not yet checked
}

// selectIncremental picks the rows of an incremental file: track rows in
// the window, the complete owned sets of every owner row picked, snapshot
// tables whole, and every row a picked row references that an earlier
// file cannot have carried, to a fixpoint.
func selectIncremental(ctx context.Context, q querier, s *schema.Schema, bounds map[*schema.Table]trackBounds, det *detection) (*selection, error) {
	c := &closer{q: q, s: s, sel: newSelection(s, false, det), bounds: bounds,
		owned: ownedBy(s), queue: map[*schema.Table][]int64{}, refs: map[*schema.Table][]int64{}}
	if err := c.seed(ctx); err != nil {
		return nil, err
	}
	if det != nil {
		// Rows of chunks whose digests changed (detect: checksum).
		for _, p := range det.pulls {
			if err := c.eachInt(ctx, p.query, func(id int64) { c.pull(p.t.Name, id) }); err != nil {
				return nil, fmt.Errorf("table %s: rows of changed chunks: %w", p.t.Name, err)
			}
		}
	}
	for progressed := true; progressed; {
		progressed = false
		for _, t := range s.Tables {
			if ids := c.queue[t]; len(ids) > 0 {
				c.queue[t], progressed = nil, true
				if err := c.follow(ctx, t, ids); err != nil {
					return nil, fmt.Errorf("table %s: %w", t.Name, err)
				}
			}
		}
		for _, t := range s.Tables {
			if ids := c.refs[t]; len(ids) > 0 {
				c.refs[t], progressed = nil, true
				if err := c.resolve(ctx, t, ids); err != nil {
					return nil, fmt.Errorf("table %s: %w", t.Name, err)
				}
			}
		}
	}
	return c.sel, nil
}

// ownedBy maps each table to the owner tables whose owner column may point
// at it; a polymorphic owner may point at any table.
func ownedBy(s *schema.Schema) map[*schema.Table][]*schema.Table {
	owned := map[*schema.Table][]*schema.Table{}
	for _, o := range s.Tables {
		if o.Role != schema.RoleOwner {
			continue
		}
		ref := o.Ref(o.Owner)
		for _, t := range s.Tables {
			if ref.Polymorphic() || ref.Table == t.Name {
				owned[t] = append(owned[t], o)
			}
		}
	}
	return owned
}

func (c *closer) seed(ctx context.Context) error {
	for _, t := range c.s.Tables {
		var err error
		switch {
		case c.sel.whole[t]:
			err = c.followWhole(ctx, t)
		case t.Role == schema.RoleTrack:
			b := c.bounds[t]
			err = c.eachInt(ctx, windowIDs(t, b.lo, b.hi), func(id int64) { c.pick(t, id) })
		}
		if err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	return nil
}

// pick puts a row of a mapped table into the file.
func (c *closer) pick(t *schema.Table, id int64) {
	set := c.sel.ids[t]
	if set == nil {
		set = idSet{}
		c.sel.ids[t] = set
	}
	if !set.has(id) {
		set[id] = struct{}{}
		c.queue[t] = append(c.queue[t], id)
	}
}

// reference notes that a row in the file references row id of table name.
func (c *closer) reference(name string, id int64) {
	t, ok := c.s.Table(name)
	if !ok || !t.Mapped || c.sel.whole[t] || c.sel.ids[t].has(id) {
		return // shared or unsynced (left out), or already in the file
	}
	c.refs[t] = append(c.refs[t], id)
}

// follow goes from newly picked rows to what they reference and own.
func (c *closer) follow(ctx context.Context, t *schema.Table, ids []int64) error {
	cols := refColumns(t)
	for _, batch := range batches(ids) {
		if len(cols) > 0 {
			if err := c.scanRefs(ctx, refScan{query: refsQuery(t, cols, whereIn(t.Key[0], batch)), refs: followed(t)}); err != nil {
				return err
			}
		}
		for _, o := range c.owned[t] {
			if err := c.ownedRows(ctx, o, t, batch); err != nil {
				return fmt.Errorf("owned rows in %s: %w", o.Name, err)
			}
		}
	}
	return nil
}

// ownedRows adds the complete sets that owners (rows of t) own in table o.
func (c *closer) ownedRows(ctx context.Context, o, t *schema.Table, owners []int64) error {
	if c.sel.whole[o] {
		return nil
	}
	ref := o.Ref(o.Owner)
	if o.Mapped {
		cols, where := []string{o.Key[0], o.Owner}, whereIn(o.Owner, owners)
		var args []any
		if ref.Polymorphic() {
			// The discriminator condition lets an index on (discriminator,
			// owner) serve as well as one on (owner, ...).
			cols, where, args = append(cols, ref.TableFrom), where+" AND "+q(ref.TableFrom)+" = ?", []any{t.Name}
		}
		return c.eachOwned(ctx, o, t.Name, func(id int64) { c.pick(o, id) }, refsQuery(o, cols, where), args...)
	}
	set := c.ownerSet(o, t.Name)
	for _, id := range owners {
		set[id] = struct{}{}
	}
	return c.scanRefs(ctx, refScan{query: refsQuery(o, refColumns(o), whereIn(o.Owner, owners)), refs: followed(o), owner: ref, only: t.Name})
}

func (c *closer) ownerSet(o *schema.Table, owner string) idSet {
	if c.sel.owners[o] == nil {
		c.sel.owners[o] = map[string]idSet{}
	}
	set := c.sel.owners[o][owner]
	if set == nil {
		set = idSet{}
		c.sel.owners[o][owner] = set
	}
	return set
}

// followWhole follows the references of a table that goes whole, and picks
// the rows that polymorphic owner tables hang on it. Whole tables are small
// (snapshots and what they own), so their IDs are read and the owned rows
// found through the owner column's index, not by scanning for the
// discriminator.
func (c *closer) followWhole(ctx context.Context, t *schema.Table) error {
	if cols := refColumns(t); len(cols) > 0 {
		if err := c.scanRefs(ctx, refScan{query: refsQuery(t, cols, ""), refs: followed(t)}); err != nil {
			return err
		}
	}
	var poly []*schema.Table
	for _, o := range c.owned[t] {
		if !c.sel.whole[o] && o.Ref(o.Owner).Polymorphic() {
			poly = append(poly, o)
		}
	}
	if len(poly) == 0 || !t.Mapped {
		return nil
	}
	var ids []int64
	if err := c.eachInt(ctx, liveIDs(t), func(id int64) { ids = append(ids, id) }); err != nil {
		return err
	}
	for _, batch := range batches(ids) {
		for _, o := range poly {
			if err := c.ownedRows(ctx, o, t, batch); err != nil {
				return fmt.Errorf("owned rows in %s: %w", o.Name, err)
			}
		}
	}
	return nil
}

// resolve decides about referenced rows not in the file. A track row goes
// in when its track value is NULL or at or after the window end: no
// earlier file can have carried it as it is. A row of an owner table
// brings its owner, which brings its complete set.
func (c *closer) resolve(ctx context.Context, t *schema.Table, ids []int64) error {
	seen := idSet{}
	var todo []int64
	for _, id := range ids {
		if !seen.has(id) && !c.sel.ids[t].has(id) {
			seen[id] = struct{}{}
			todo = append(todo, id)
		}
	}
	slices.Sort(todo)
	for _, batch := range batches(todo) {
		var err error
		switch t.Role {
		case schema.RoleTrack:
			err = c.eachInt(ctx, unsentIDs(t, batch, c.bounds[t].hi), func(id int64) { c.pick(t, id) })
		case schema.RoleOwner:
			err = c.owners(ctx, t, batch)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// owners brings in the owners of rows of owner table t.
func (c *closer) owners(ctx context.Context, t *schema.Table, ids []int64) error {
	ref := t.Ref(t.Owner)
	cols := []string{t.Owner}
	if ref.Polymorphic() {
		cols = append(cols, ref.TableFrom)
	}
	return c.scanRefs(ctx, refScan{query: refsQuery(t, cols, whereIn(t.Key[0], ids)), refs: []*schema.Reference{ref}, pull: true})
}

func (c *closer) pull(name string, id int64) {
	t, ok := c.s.Table(name)
	switch {
	case !ok || !t.Mapped || c.sel.whole[t]:
	case t.Role == schema.RoleTrack:
		c.pick(t, id)
	default:
		c.reference(name, id) // an owner row: bring its owner in turn
	}
}
