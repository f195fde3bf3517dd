package export

import (
	"database/sql"
	"encoding/base64"
	"fmt"
	"unicode/utf8"

	"tributary/schema"
	"tributary/syncfile"
)

// kind says how one column's bytes, as the server printed them on the text
// protocol, become a JSON value (DESIGN.md section 4).
type kind uint8

const (
	kindText    kind = iota // strings, dates, times, ENUM, SET, JSON, anything unknown
	kindInt                 // a JSON number up to 2^53, a string beyond
	kindDecimal             // always a string: the digits are the value
	kindFloat               // a JSON number when the printed form is one
	kindBinary              // base64
)

func kindOf(c schema.Column) kind {
	if c.Binary {
		return kindBinary
	}
	switch c.DataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return kindInt
	case "decimal", "numeric":
		return kindDecimal
	case "float", "double", "real", "double precision":
		return kindFloat
	}
	// Dates, times and YEAR travel as printed (zero dates included), and
	// types this code does not know (UUID, INET6, ...) arrive as text.
	return kindText
}

// codec turns one table's rows into record lines. It is built once per
// table so that encoding a row is appends only: no reflection, no maps.
type codec struct {
	table   *schema.Table
	cols    []colCodec // the selected columns, in table order
	keyIdx  []int      // positions of the key columns in cols
	mapped  bool
	upsert  []byte  // {"t":"<table>","op":"upsert",
	invalid []int64 // per column: values whose invalid UTF-8 was replaced
}

type colCodec struct {
	name string
	kind kind
	key  []byte // "name": (JSON-escaped)
}

func newCodec(t *schema.Table) *codec {
	c := &codec{table: t, mapped: t.Mapped, invalid: make([]int64, len(t.Columns))}
	for i, col := range t.Columns {
		c.cols = append(c.cols, colCodec{name: col.Name, kind: kindOf(col), key: append(appendString(nil, col.Name), ':')})
		for _, k := range t.Key {
			if k == col.Name {
				c.keyIdx = append(c.keyIdx, i)
			}
		}
	}
	c.upsert = append([]byte(`{"t":`), appendString(nil, t.Name)...)
	c.upsert = append(c.upsert, `,"op":"upsert",`...)
	return c
}

// appendUpsert appends the upsert record of one row. For a mapped table the
// key travels as "id" and the row holds every other column; a composite-key
// row holds all its columns.
func (c *codec) appendUpsert(buf []byte, vals []sql.RawBytes) ([]byte, error) {
	buf = append(buf, c.upsert...)
	skip := -1
	if c.mapped {
		skip = c.keyIdx[0]
		id := vals[skip]
		if !isCanonicalInt(id) {
			return buf, fmt.Errorf("key column %s holds a value that is not an integer", c.cols[skip].name)
		}
		buf = append(buf, `"id":`...)
		buf = append(buf, id...)
		buf = append(buf, ',')
	}
	buf = append(buf, `"row":{`...)
	first := true
	for i := range c.cols {
		if i == skip {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, c.cols[i].key...)
		buf = c.appendValue(buf, i, vals[i])
	}
	return append(buf, "}}"...), nil
}

// appendValue appends one column's value; NULL (a nil RawBytes) is null.
func (c *codec) appendValue(buf []byte, i int, v sql.RawBytes) []byte {
	if v == nil {
		return append(buf, "null"...)
	}
	switch c.cols[i].kind {
	case kindInt:
		return appendInt(buf, v)
	case kindFloat:
		if isJSONNumber(v) {
			return append(buf, v...)
		}
		return appendString(buf, string(v))
	case kindBinary:
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, v)
		return append(buf, '"')
	case kindDecimal:
		return appendString(buf, string(v))
	}
	out, ok := appendText(buf, v)
	if !ok {
		c.invalid[i]++
	}
	return out
}

// maxExact is 2^53: every integer up to it in magnitude survives a JSON
// reader that parses numbers as float64 (JavaScript, many others).
const maxExact = "9007199254740992"

// appendInt appends an integer printed by the server (possibly ZEROFILL
// padded) as a JSON number, or as a string of its digits when its magnitude
// is beyond 2^53. Anything that is not an integer goes as a string.
func appendInt(buf []byte, v []byte) []byte {
	neg := len(v) > 0 && v[0] == '-'
	digits := v
	if neg {
		digits = v[1:]
	}
	if len(digits) == 0 || !allDigits(digits) {
		out, _ := appendText(buf, v)
		return out
	}
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	if digits[0] == '0' {
		neg = false // "-0" and "000" are both plain 0
	}
	exact := len(digits) < len(maxExact) || (len(digits) == len(maxExact) && string(digits) <= maxExact)
	if !exact {
		buf = append(buf, '"')
	}
	if neg {
		buf = append(buf, '-')
	}
	buf = append(buf, digits...)
	if !exact {
		buf = append(buf, '"')
	}
	return buf
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isCanonicalInt accepts exactly the integers that fit int64 written as
// strconv.FormatInt writes them (no sign on zero, no leading zeros), so a
// key becomes a JSON number that any reader parses exactly. It runs once
// per row and does not parse.
func isCanonicalInt(v []byte) bool {
	digits := v
	limit := "9223372036854775807"
	if len(v) > 0 && v[0] == '-' {
		digits, limit = v[1:], "9223372036854775808"
	}
	switch {
	case len(digits) == 0 || !allDigits(digits):
		return false
	case digits[0] == '0':
		return len(v) == 1 // "0" alone; not "-0", not "007"
	case len(digits) < len(limit):
		return true
	}
	return len(digits) == len(limit) && string(digits) <= limit
}

// isJSONNumber checks JSON's number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(v []byte) bool {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	switch {
	case i < len(v) && v[i] == '0':
		i++
	case i < len(v) && v[i] >= '1' && v[i] <= '9':
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		start := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		start := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(v)
}

// appendString appends s as a JSON string; s is a name we control or bytes
// already known to be text.
func appendString(buf []byte, s string) []byte {
	out, _ := appendText(buf, []byte(s))
	return out
}

const hexDigits = "0123456789abcdef"

// safeASCII marks the bytes that go into a JSON string as they are.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendText appends v as a JSON string. Bytes that are not valid UTF-8
// (which a utf8mb4 connection should never deliver, but a column filled
// through a mislabelled connection can hold) become U+FFFD so the line
// stays valid JSON; ok is false then, and the caller counts the value.
func appendText(buf []byte, v []byte) (out []byte, ok bool) {
	ok = true
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			buf = append(buf, v[start:i]...)
			buf = appendEscape(buf, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, v[start:i]...)
			buf = append(buf, `\ufffd`...)
			ok = false
			i++
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, v[start:]...)
	return append(buf, '"'), ok
}

func appendEscape(buf []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(buf, '\\', c)
	case '\n':
		return append(buf, '\\', 'n')
	case '\r':
		return append(buf, '\\', 'r')
	case '\t':
		return append(buf, '\\', 't')
	}
	return append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// tableInfo is the header's description of a table.
func tableInfo(t *schema.Table) syncfile.TableInfo {
	info := syncfile.TableInfo{Order: t.Order, Role: string(t.Role), Key: t.Key, Columns: t.ColumnNames()}
	for _, c := range t.Columns {
		if c.Binary {
			info.Binary = append(info.Binary, c.Name)
		}
	}
	return info
}
