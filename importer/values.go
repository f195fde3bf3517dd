package importer

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"tributary/syncfile"
)

// row is one upsert on its way to the master. vals follow the plan's
// columns; a reference column holds the child ID (int64) until it is
// rewritten to the master ID (int64), every other value is what is bound:
// nil, a string (numbers as their JSON text) or []byte (binary columns).
type row struct {
	line   int64
	id     int64 // child ID of a mapped table's row
	vals   []any
	master int64  // master ID once known (mapped tables)
	key    string // encoded master key (composite tables)
	size   int    // bytes bound, to keep statements under max_allowed_packet
}

// parseRow copies one upsert out of the reader's buffer, converting each
// value. Every column of the header must be there exactly once.
func (tp *tablePlan) parseRow(rec *syncfile.Record) (*row, error) {
	r := &row{line: rec.Line, vals: make([]any, len(tp.cols))}
	if tp.t.Mapped {
		if !rec.HasID {
			return nil, rejectf(ErrBadRecord, "line %d: upsert of %s without an id", rec.Line, tp.t.Name)
		}
		r.id = rec.ID
	}
	seen := make([]bool, len(tp.cols))
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
			return nil, rejectf(ErrBadRecord, "line %d: row of %s lacks column %s", rec.Line, tp.t.Name, tp.cols[i].name)
		}
	}
	return r, nil
}

func (tp *tablePlan) setValue(r *row, seen []bool, name string, v gjson.Result) error {
	i, ok := tp.index[name]
	if !ok {
		// A mapped table's key may ride along in the row; it must then agree.
		if tp.t.Mapped && name == tp.t.Key[0] {
			if id, isInt, _ := refValue(v); isInt && id == r.id {
				return nil
			}
		}
		return rejectf(ErrBadRecord, "line %d: row of %s has column %s, which its header does not list or which disagrees with the id", r.line, tp.t.Name, name)
	}
	if seen[i] {
		return rejectf(ErrBadRecord, "line %d: row of %s has column %s twice", r.line, tp.t.Name, name)
	}
	seen[i] = true
	c := &tp.cols[i]
	var err error
	switch c.kind {
	case refPlain, refDeferred, refPoly:
		r.vals[i], err = refChild(v)
	default:
		r.vals[i], err = bindValue(v, c.binary)
	}
	if err != nil {
		return rejectf(ErrBadRecord, "line %d: %s.%s: %v", r.line, tp.t.Name, name, err)
	}
	if c.fsp >= 0 && v.Type == gjson.String && cutsFraction(v.Str, c.fsp) {
		return rejectf(ErrData, "line %d: %s.%s: a value has more fractional-second digits than the master's column keeps (%d); it would be cut: give the master's column the child's precision", r.line, tp.t.Name, name, c.fsp)
	}
	r.size += valueSize(r.vals[i])
	return nil
}

// bindValue turns one JSON value into a bound parameter: numbers keep their
// exact JSON text, strings are bound as strings, binary columns as bytes.
// The server converts, and in strict mode refuses what does not fit.
func bindValue(v gjson.Result, binary bool) (any, error) {
	switch v.Type {
	case gjson.Null:
		return nil, nil
	case gjson.Number:
		if binary {
			return nil, fmt.Errorf("a number where base64 was expected")
		}
		return strings.Clone(v.Raw), nil
	case gjson.String:
		if !binary {
			return strings.Clone(v.Str), nil
		}
		b, err := base64.StdEncoding.DecodeString(v.Str)
		if err != nil {
			return nil, fmt.Errorf("not valid base64")
		}
		if b == nil {
			b = []byte{} // nil would bind as NULL
		}
		return b, nil
	default:
		return nil, fmt.Errorf("a %s value, which the format does not use", v.Type)
	}
}

// refChild reads a reference's child ID: nil for NULL, else an int64.
func refChild(v gjson.Result) (any, error) {
	if v.Type == gjson.Null {
		return nil, nil
	}
	id, ok, err := refValue(v)
	if !ok {
		return nil, err
	}
	return id, nil
}

// refValue parses an integer given as a JSON number or, beyond 2^53, as a
// string of digits.
func refValue(v gjson.Result) (int64, bool, error) {
	var text string
	switch v.Type {
	case gjson.Number:
		text = v.Raw
	case gjson.String:
		text = v.Str
	default:
		return 0, false, fmt.Errorf("a reference must be an integer")
	}
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("a reference must be an integer")
	}
	return id, true, nil
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

// keyPart is the canonical text of one key value, the same whether it
// comes from a bound parameter or is read back from the master.
func keyPart(v any) string {
	switch x := v.(type) {
	case nil:
		return "\x00NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
		return x
	case []byte:
		return keyPart(string(x))
	default:
		return ""
	}
}

// encodeKey joins the canonical parts of a composite key.
func encodeKey(parts []any) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0x1f)
		}
		b.WriteString(keyPart(p))
	}
	return b.String()
}
