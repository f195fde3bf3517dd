// Package plan is a sync file as the master understands it: its header
// checked against the master's map (which table and column goes where,
// which reference is rewritten when), its records parsed into rows of
// bound values, read on their own goroutine, and the vocabulary the
// import's passes hand each other (keys, sets of IDs, what a file carries).
// It runs no SQL.
package plan

import (
	"slices"
	"sort"

	"tributary/importer/reject"
	"tributary/schema"
	"tributary/syncfile"
)

// RefKind says how import fills one column of a row.
type RefKind int

// The kinds of column.
const (
	RefNone     RefKind = iota // a plain value, bound as the file has it
	RefShared                  // a reference to a shared table: copied verbatim
	RefPlain                   // rewritten to the master ID in the first pass
	RefDeferred                // rewritten in the second pass (cycle, self-reference, forward)
	RefPoly                    // polymorphic: the target is chosen per row by the discriminator
)

// Column is how one column of the file reaches the master.
type Column struct {
	Name     string
	Binary   bool
	Kind     RefKind
	Target   string // the referenced table (RefPlain, RefDeferred)
	Disc     int    // index of the discriminator column (RefPoly)
	Nullable bool
	FSP      int // fractional-second digits the master keeps; -1: not a time column
}

// Table is how one table of the file is applied. Its columns are the
// header's, in the header's order, without the key of a mapped table
// (its child ID travels as the record's id).
type Table struct {
	Table  *schema.Table
	Order  int // the file's apply order
	Cols   []Column
	Index  map[string]int
	KeyIdx []int // composite tables: the key columns' indexes in Cols
}

// Plan is a file's header checked against the master's resolved schema.
type Plan struct {
	Schema *schema.Schema
	Header *syncfile.Header
	Tables map[string]*Table
	// Ordered lists the file's tables in the file's apply order.
	Ordered []*Table
}

// New checks every table and column the header names against the
// master's map and builds how each is applied. Any mismatch rejects the
// file before anything changes (reject.ErrMismatch).
func New(s *schema.Schema, h *syncfile.Header) (*Plan, error) {
	p := &Plan{Schema: s, Header: h, Tables: map[string]*Table{}}
	names := make([]string, 0, len(h.Tables))
	for name := range h.Tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		tp, err := newTable(s, name, h.Tables[name])
		if err != nil {
			return nil, err
		}
		p.Tables[name] = tp
		p.Ordered = append(p.Ordered, tp)
	}
	sort.SliceStable(p.Ordered, func(i, j int) bool { return p.Ordered[i].Order < p.Ordered[j].Order })
	for _, tp := range p.Ordered {
		if err := p.planRefs(tp); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func newTable(s *schema.Schema, name string, info syncfile.TableInfo) (*Table, error) {
	t, ok := s.Table(name)
	if !ok {
		return nil, reject.Errorf(reject.ErrMismatch, "the file has table %s, which the master's map does not sync", name)
	}
	if info.Role != string(t.Role) {
		return nil, reject.Errorf(reject.ErrMismatch, "table %s is %s in the file but %s in the master's map: child and master must use the same map", name, info.Role, t.Role)
	}
	if !slices.Equal(info.Key, t.Key) {
		return nil, reject.Errorf(reject.ErrMismatch, "table %s has key %v in the file but %v on the master", name, info.Key, t.Key)
	}
	tp := &Table{Table: t, Order: info.Order, Index: map[string]int{}}
	binary := map[string]bool{}
	for _, c := range info.Binary {
		binary[c] = true
	}
	for _, name := range info.Columns {
		if err := tp.addColumn(name, binary[name]); err != nil {
			return nil, err
		}
	}
	for c := range binary {
		if _, ok := tp.Index[c]; !ok && !(t.Mapped && c == t.Key[0]) {
			return nil, reject.Errorf(reject.ErrMismatch, "table %s: binary column %s is not among the file's columns", name, c)
		}
	}
	if !t.Mapped {
		for _, k := range t.Key {
			i, ok := tp.Index[k]
			if !ok {
				return nil, reject.Errorf(reject.ErrMismatch, "table %s: key column %s is not among the file's columns", name, k)
			}
			tp.KeyIdx = append(tp.KeyIdx, i)
		}
	}
	return tp, nil
}

func (tp *Table) addColumn(name string, binary bool) error {
	t := tp.Table
	col, ok := t.Column(name)
	if !ok {
		return reject.Errorf(reject.ErrMismatch, "the file has column %s.%s, which the master's map does not sync (missing on the master, or excluded)", t.Name, name)
	}
	if _, dup := tp.Index[name]; dup {
		return reject.Errorf(reject.ErrMismatch, "table %s: column %s is listed twice in the header", t.Name, name)
	}
	if col.Binary != binary {
		return reject.Errorf(reject.ErrMismatch, "column %s.%s is binary on one side and text on the other: child and master schemas differ", t.Name, name)
	}
	if t.Mapped && name == t.Key[0] {
		return nil // the child ID travels as the record's id
	}
	tp.Index[name] = len(tp.Cols)
	tp.Cols = append(tp.Cols, Column{Name: name, Binary: binary, Nullable: col.Nullable, Disc: -1, FSP: fractionalDigits(col)})
	return nil
}

// planRefs decides, per reference column, when it is rewritten. The file's
// own table order decides what is already applied when a row arrives, so a
// reference is deferred to the second pass when the master's map defers it
// or when its target comes later in this file.
func (p *Plan) planRefs(tp *Table) error {
	for i := range tp.Cols {
		c := &tp.Cols[i]
		ref := tp.Table.Ref(c.Name)
		switch {
		case ref == nil:
		case ref.Shared:
			c.Kind = RefShared
		case ref.Polymorphic():
			d, ok := tp.Index[ref.TableFrom]
			if !ok {
				return reject.Errorf(reject.ErrMismatch, "table %s: polymorphic column %s is in the file but its discriminator %s is not", tp.Table.Name, c.Name, ref.TableFrom)
			}
			c.Kind, c.Disc = RefPoly, d
		default:
			c.Kind, c.Target = RefPlain, ref.Table
			if ref.Deferred || ref.Table == tp.Table.Name || !p.precedes(ref.Table, tp) {
				if why := cannotDefer(tp, c); why != "" {
					return reject.Errorf(reject.ErrMismatch, "table %s comes before %s in the file, but %s.%s %s: the child's map or schema differs from the master's", tp.Table.Name, ref.Table, tp.Table.Name, c.Name, why)
				}
				c.Kind = RefDeferred
			}
		}
	}
	return nil
}

func cannotDefer(tp *Table, c *Column) string {
	switch {
	case !c.Nullable:
		return "is NOT NULL"
	case c.Name == tp.Table.Owner:
		return "is the owner column"
	case slices.Contains(tp.Table.Key, c.Name):
		return "is part of the key"
	}
	return ""
}

// precedes reports whether every row of table target in this file comes
// before the rows of tp. A table the file does not carry has no rows in it,
// so its rows on the master are all there already.
func (p *Plan) precedes(target string, tp *Table) bool {
	other, ok := p.Tables[target]
	return !ok || other.Order < tp.Order
}

// PolyFirstPass reports whether a polymorphic reference of tp to target is
// resolved when its row arrives (the target's rows are all applied by then)
// rather than in the second pass.
func (p *Plan) PolyFirstPass(tp *Table, target string) bool {
	return target != tp.Table.Name && p.precedes(target, tp)
}

// Full reports whether the file is a full file: it carries every row.
func (p *Plan) Full() bool { return p.Header.Mode == syncfile.ModeFull }

// HasOwnedOrSnapshot reports whether the file has a table whose set it
// carries whole (an owner or a snapshot table), from which an incremental
// file can imply deletions even without live ranges.
func (p *Plan) HasOwnedOrSnapshot() bool {
	for _, tp := range p.Ordered {
		if tp.Table.Role == schema.RoleOwner || tp.Table.Role == schema.RoleSnapshot {
			return true
		}
	}
	return false
}

// Owners lists the tables whose rows may own rows of owner table t: the
// target of its owner reference, or, when that is polymorphic, every
// mapped table of the file.
func (p *Plan) Owners(t *schema.Table) []string {
	ref := t.Ref(t.Owner)
	if !ref.Polymorphic() {
		return []string{ref.Table}
	}
	var owners []string
	for _, tp := range p.Ordered {
		if tp.Table.Mapped {
			owners = append(owners, tp.Table.Name)
		}
	}
	return owners
}

// ColumnNames lists the table's columns in the file's order.
func (tp *Table) ColumnNames() []string {
	names := make([]string, len(tp.Cols))
	for i, c := range tp.Cols {
		names[i] = c.Name
	}
	return names
}
