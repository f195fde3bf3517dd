package importer

import (
	"slices"
	"sort"

	"tributary/schema"
	"tributary/syncfile"
)

// refKind says how import fills one column of a row.
type refKind int

const (
	refNone     refKind = iota // a plain value, bound as the file has it
	refShared                  // a reference to a shared table: copied verbatim
	refPlain                   // rewritten to the master ID in the first pass
	refDeferred                // rewritten in the second pass (cycle, self-reference, forward)
	refPoly                    // polymorphic: the target is chosen per row by the discriminator
)

// colPlan is how one column of the file reaches the master.
type colPlan struct {
	name     string
	binary   bool
	kind     refKind
	target   string // the referenced table (refPlain, refDeferred)
	disc     int    // index of the discriminator column (refPoly)
	nullable bool
	fsp      int // fractional-second digits the master keeps; -1: not a time column
}

// tablePlan is how one table of the file is applied. Its columns are the
// header's, in the header's order, without the key of a mapped table
// (its child ID travels as the record's id).
type tablePlan struct {
	t      *schema.Table
	order  int // the file's apply order
	cols   []colPlan
	index  map[string]int
	keyIdx []int // composite tables: the key columns' indexes in cols
}

// plan is a file's header checked against the master's resolved schema.
type plan struct {
	s      *schema.Schema
	header *syncfile.Header
	tables map[string]*tablePlan
	// ordered lists the file's tables in the file's apply order.
	ordered []*tablePlan
}

// newPlan checks every table and column the header names against the
// master's map and builds how each is applied. Any mismatch rejects the
// file before anything changes (ErrMismatch).
func newPlan(s *schema.Schema, h *syncfile.Header) (*plan, error) {
	p := &plan{s: s, header: h, tables: map[string]*tablePlan{}}
	names := make([]string, 0, len(h.Tables))
	for name := range h.Tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		tp, err := newTablePlan(s, name, h.Tables[name])
		if err != nil {
			return nil, err
		}
		p.tables[name] = tp
		p.ordered = append(p.ordered, tp)
	}
	sort.SliceStable(p.ordered, func(i, j int) bool { return p.ordered[i].order < p.ordered[j].order })
	for _, tp := range p.ordered {
		if err := p.planRefs(tp); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func newTablePlan(s *schema.Schema, name string, info syncfile.TableInfo) (*tablePlan, error) {
	t, ok := s.Table(name)
	if !ok {
		return nil, rejectf(ErrMismatch, "the file has table %s, which the master's map does not sync", name)
	}
	if info.Role != string(t.Role) {
		return nil, rejectf(ErrMismatch, "table %s is %s in the file but %s in the master's map: child and master must use the same map", name, info.Role, t.Role)
	}
	if !slices.Equal(info.Key, t.Key) {
		return nil, rejectf(ErrMismatch, "table %s has key %v in the file but %v on the master", name, info.Key, t.Key)
	}
	tp := &tablePlan{t: t, order: info.Order, index: map[string]int{}}
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
		if _, ok := tp.index[c]; !ok && !(t.Mapped && c == t.Key[0]) {
			return nil, rejectf(ErrMismatch, "table %s: binary column %s is not among the file's columns", name, c)
		}
	}
	if !t.Mapped {
		for _, k := range t.Key {
			i, ok := tp.index[k]
			if !ok {
				return nil, rejectf(ErrMismatch, "table %s: key column %s is not among the file's columns", name, k)
			}
			tp.keyIdx = append(tp.keyIdx, i)
		}
	}
	return tp, nil
}

func (tp *tablePlan) addColumn(name string, binary bool) error {
	t := tp.t
	col, ok := t.Column(name)
	if !ok {
		return rejectf(ErrMismatch, "the file has column %s.%s, which the master's map does not sync (missing on the master, or excluded)", t.Name, name)
	}
	if _, dup := tp.index[name]; dup {
		return rejectf(ErrMismatch, "table %s: column %s is listed twice in the header", t.Name, name)
	}
	if col.Binary != binary {
		return rejectf(ErrMismatch, "column %s.%s is binary on one side and text on the other: child and master schemas differ", t.Name, name)
	}
	if t.Mapped && name == t.Key[0] {
		return nil // the child ID travels as the record's id
	}
	tp.index[name] = len(tp.cols)
	tp.cols = append(tp.cols, colPlan{name: name, binary: binary, nullable: col.Nullable, disc: -1, fsp: fractionalDigits(col)})
	return nil
}

// planRefs decides, per reference column, when it is rewritten. The file's
// own table order decides what is already applied when a row arrives, so a
// reference is deferred to the second pass when the master's map defers it
// or when its target comes later in this file.
func (p *plan) planRefs(tp *tablePlan) error {
	for i := range tp.cols {
		c := &tp.cols[i]
		ref := tp.t.Ref(c.name)
		switch {
		case ref == nil:
		case ref.Shared:
			c.kind = refShared
		case ref.Polymorphic():
			d, ok := tp.index[ref.TableFrom]
			if !ok {
				return rejectf(ErrMismatch, "table %s: polymorphic column %s is in the file but its discriminator %s is not", tp.t.Name, c.name, ref.TableFrom)
			}
			c.kind, c.disc = refPoly, d
		default:
			c.kind, c.target = refPlain, ref.Table
			if ref.Deferred || ref.Table == tp.t.Name || !p.precedes(ref.Table, tp) {
				if why := p.cannotDefer(tp, c); why != "" {
					return rejectf(ErrMismatch, "table %s comes before %s in the file, but %s.%s %s: the child's map or schema differs from the master's", tp.t.Name, ref.Table, tp.t.Name, c.name, why)
				}
				c.kind = refDeferred
			}
		}
	}
	return nil
}

func (p *plan) cannotDefer(tp *tablePlan, c *colPlan) string {
	switch {
	case !c.nullable:
		return "is NOT NULL"
	case c.name == tp.t.Owner:
		return "is the owner column"
	case slices.Contains(tp.t.Key, c.name):
		return "is part of the key"
	}
	return ""
}

// precedes reports whether every row of table target in this file comes
// before the rows of tp. A table the file does not carry has no rows in it,
// so its rows on the master are all there already.
func (p *plan) precedes(target string, tp *tablePlan) bool {
	other, ok := p.tables[target]
	return !ok || other.order < tp.order
}

// polyFirstPass reports whether a polymorphic reference of tp to target is
// resolved when its row arrives (the target's rows are all applied by then)
// rather than in the second pass.
func (p *plan) polyFirstPass(tp *tablePlan, target string) bool {
	return target != tp.t.Name && p.precedes(target, tp)
}
