package syncfile

import (
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Kind says how one column's values, as the server printed them on the
// text protocol, travel as JSON (DESIGN.md section 4).
type Kind uint8

// The kinds of column.
const (
	KindText    Kind = iota // strings, dates, times, ENUM, SET, JSON, anything unknown
	KindInt                 // a JSON number up to 2^53, a string beyond
	KindDecimal             // always a string: the digits are the value
	KindFloat               // a JSON number when the printed form is one
	KindBinary              // base64
)

// Column is one column of a table's records, in the order values come.
type Column struct {
	Name string
	Kind Kind
}

// Upserts encodes one table's rows as upsert record lines. It is built
// once per table so that encoding a row is appends only: no reflection, no
// maps.
type Upserts struct {
	cols    []encodedColumn
	id      int     // the column that travels as "id"; -1 for a composite key
	upsert  []byte  // {"t":"<table>","op":"upsert",
	invalid []int64 // per column: values whose invalid UTF-8 was replaced
}

type encodedColumn struct {
	name string
	kind Kind
	key  []byte // "name": (JSON-escaped)
}

// NewUpserts returns the encoder of table's rows, whose values come in the
// order of cols. id is the index of the key column of a mapped table (a
// single integer key), which travels as the record's "id"; -1 when the
// table's key is composite and every column travels in "row".
func NewUpserts(table string, cols []Column, id int) *Upserts {
	u := &Upserts{id: id, invalid: make([]int64, len(cols))}
	for _, c := range cols {
		u.cols = append(u.cols, encodedColumn{name: c.Name, kind: c.Kind, key: append(appendString(nil, c.Name), ':')})
	}
	u.upsert = append([]byte(`{"t":`), appendString(nil, table)...)
	u.upsert = append(u.upsert, `,"op":"`+OpUpsert+`",`...)
	return u
}

// Append appends the upsert record of one row, whose values are as the
// server printed them (nil for NULL).
func (u *Upserts) Append(buf []byte, vals []sql.RawBytes) ([]byte, error) {
	buf = append(buf, u.upsert...)
	if u.id >= 0 {
		id := vals[u.id]
		if !isCanonicalInt(id) {
			return buf, fmt.Errorf("key column %s holds a value that is not an integer", u.cols[u.id].name)
		}
		buf = append(buf, `"id":`...)
		buf = append(buf, id...)
		buf = append(buf, ',')
	}
	buf = append(buf, `"row":{`...)
	first := true
	for i := range u.cols {
		if i == u.id {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, u.cols[i].key...)
		buf = u.appendValue(buf, i, vals[i])
	}
	return append(buf, "}}"...), nil
}

// InvalidUTF8 returns, per column, how many values held bytes that are not
// UTF-8 (they travel as U+FFFD).
func (u *Upserts) InvalidUTF8() []int64 { return u.invalid }

// appendValue appends one column's value; NULL (a nil RawBytes) is null.
func (u *Upserts) appendValue(buf []byte, i int, v sql.RawBytes) []byte {
	if v == nil {
		return append(buf, "null"...)
	}
	switch u.cols[i].kind {
	case KindInt:
		return appendInt(buf, v)
	case KindFloat:
		if isJSONNumber(v) {
			return append(buf, v...)
		}
		return appendString(buf, string(v))
	case KindBinary:
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, v)
		return append(buf, '"')
	case KindDecimal:
		return appendString(buf, string(v))
	}
	out, ok := appendText(buf, v)
	if !ok {
		u.invalid[i]++
	}
	return out
}

// MaxRangesPerRecord bounds a live record, so that a table whose IDs are
// full of holes still gives lines of a few hundred kilobytes, not one line
// of the table's size.
const MaxRangesPerRecord = 10000

// LiveRanges encodes a track table's live IDs, fed in ascending order, as
// live records of [lo, hi] ranges, and hands out a record whenever enough
// ranges are complete. It holds at most one record's ranges.
type LiveRanges struct {
	prefix  []byte // {"t":"<table>","op":"live","ranges":[
	max     int
	ranges  [][2]int64
	open    bool
	records int
	emit    func(line []byte) error
	buf     []byte
}

// NewLiveRanges returns the encoder of table's live IDs; emit gets each
// record line (valid until it returns), with at most max ranges.
func NewLiveRanges(table string, max int, emit func(line []byte) error) *LiveRanges {
	prefix := append([]byte(`{"t":`), appendString(nil, table)...)
	prefix = append(prefix, `,"op":"`+OpLive+`","ranges":[`...)
	return &LiveRanges{prefix: prefix, max: max, emit: emit}
}

// Add takes the next live ID; IDs must come in strictly ascending order.
func (l *LiveRanges) Add(id int64) error {
	if l.open {
		last := &l.ranges[len(l.ranges)-1]
		if id == last[1]+1 {
			last[1] = id
			return nil
		}
	}
	if len(l.ranges) == l.max {
		if err := l.flush(); err != nil {
			return err
		}
	}
	l.ranges = append(l.ranges, [2]int64{id, id})
	l.open = true
	return nil
}

// Finish emits what is left. A table with no live row still gets one
// record with no ranges: it tells the master to delete every row.
func (l *LiveRanges) Finish() error {
	if len(l.ranges) > 0 || l.records == 0 {
		return l.flush()
	}
	return nil
}

// Records is how many records were emitted.
func (l *LiveRanges) Records() int { return l.records }

func (l *LiveRanges) flush() error {
	b := append(l.buf[:0], l.prefix...)
	for i, r := range l.ranges {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, r[0], 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, r[1], 10)
		b = append(b, ']')
	}
	b = append(b, "]}"...)
	l.buf = b
	l.ranges = l.ranges[:0]
	l.open = false
	l.records++
	return l.emit(b)
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
