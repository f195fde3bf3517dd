package plan

import (
	"github.com/tidwall/gjson"

	"tributary/importer/reject"
	"tributary/syncfile"
)

// Row is one upsert on its way to the master. Vals follow the plan's
// columns; a reference column holds the child ID (int64) until the first
// or second pass rewrites it to the master ID (int64), every other value
// is what is bound: nil, a string (numbers as their JSON text) or []byte
// (binary columns).
type Row struct {
	Line   int64
	ID     int64 // child ID of a mapped table's row
	Vals   []any
	Master int64  // master ID once known (mapped tables)
	Key    string // encoded master key (composite tables)
	Size   int    // bytes bound, to keep statements under max_allowed_packet
	// Kept: the row is a master row shared through a match policy that
	// another prefix (or the master) created, or that this file matched:
	// it is mapped, but the file's values are not written to it.
	Kept bool
}

// ParseRow copies one upsert out of the reader's buffer, converting each
// value. Every column of the header must be there exactly once.
func (tp *Table) ParseRow(rec *syncfile.Record) (*Row, error) {
	r := &Row{Line: rec.Line, Vals: make([]any, len(tp.Cols))}
	if tp.Table.Mapped {
		if !rec.HasID {
			return nil, reject.Errorf(reject.ErrBadRecord, "line %d: upsert of %s without an id", rec.Line, tp.Table.Name)
		}
		r.ID = rec.ID
	}
	seen := make([]bool, len(tp.Cols))
	var err error
	rec.Row.ForEach(func(k, v gjson.Result) bool {
		err = tp.setValue(r, seen, k.Str, v)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	for i, ok := range seen {
		if !ok {
			return nil, reject.Errorf(reject.ErrBadRecord, "line %d: row of %s lacks column %s", rec.Line, tp.Table.Name, tp.Cols[i].Name)
		}
	}
	return r, nil
}

func (tp *Table) setValue(r *Row, seen []bool, name string, v gjson.Result) error {
	i, ok := tp.Index[name]
	if !ok {
		// A mapped table's key may ride along in the row; it must then agree.
		if tp.Table.Mapped && name == tp.Table.Key[0] {
			if id, isInt, _ := syncfile.DecodeID(v); isInt && id == r.ID {
				return nil
			}
		}
		return reject.Errorf(reject.ErrBadRecord, "line %d: row of %s has column %s, which its header does not list or which disagrees with the id", r.Line, tp.Table.Name, name)
	}
	if seen[i] {
		return reject.Errorf(reject.ErrBadRecord, "line %d: row of %s has column %s twice", r.Line, tp.Table.Name, name)
	}
	seen[i] = true
	c := &tp.Cols[i]
	var err error
	switch c.Kind {
	case RefPlain, RefDeferred, RefPoly:
		r.Vals[i], err = syncfile.DecodeRef(v)
	default:
		r.Vals[i], err = syncfile.DecodeValue(v, c.Binary)
	}
	if err != nil {
		return reject.Errorf(reject.ErrBadRecord, "line %d: %s.%s: %v", r.Line, tp.Table.Name, name, err)
	}
	if c.FSP >= 0 && v.Type == gjson.String && cutsFraction(v.Str, c.FSP) {
		return reject.Errorf(reject.ErrData, "line %d: %s.%s: a value has more fractional-second digits than the master's column keeps (%d); it would be cut: give the master's column the child's precision", r.Line, tp.Table.Name, name, c.FSP)
	}
	r.Size += valueSize(r.Vals[i])
	return nil
}

func valueSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 8
	case []byte:
		return len(x) + 8
	default:
		return 16
	}
}

// RefTarget returns the synced table and child ID that reference column i
// of r points at; ok is false for a NULL or a non-reference. A polymorphic
// reference to a shared table has no target (it is copied verbatim).
func (p *Plan) RefTarget(tp *Table, r *Row, i int) (target string, child int64, ok bool, err error) {
	c := &tp.Cols[i]
	if c.Kind != RefPlain && c.Kind != RefDeferred && c.Kind != RefPoly {
		return "", 0, false, nil
	}
	child, isID := r.Vals[i].(int64)
	if !isID {
		return "", 0, false, nil
	}
	if c.Kind != RefPoly {
		return c.Target, child, true, nil
	}
	disc, _ := r.Vals[c.Disc].(string)
	if p.Schema.IsShared(disc) {
		return "", child, true, nil
	}
	t, synced := p.Schema.Table(disc)
	if !synced || !t.Mapped {
		return "", 0, false, reject.Errorf(reject.ErrMismatch, "line %d: %s.%s points at table %q (by %s), which the master's map does not sync with a single-column key", r.Line, tp.Table.Name, c.Name, disc, tp.Cols[c.Disc].Name)
	}
	return disc, child, true, nil
}

// KeyValues returns a composite table's row's key, in the key's order.
func (tp *Table) KeyValues(r *Row) []any {
	key := make([]any, len(tp.KeyIdx))
	for i, k := range tp.KeyIdx {
		key[i] = r.Vals[k]
	}
	return key
}

// ChildKey identifies a row within the file, before its references are
// rewritten: its child ID, or its encoded child key.
func (tp *Table) ChildKey(r *Row) string {
	if tp.Table.Mapped {
		return KeyPart(r.ID)
	}
	return EncodeKey(tp.KeyValues(r))
}
