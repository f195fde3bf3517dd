package plan

import (
	"bytes"
	"math"
	"strconv"
)

// Same reports whether a value the import would bind (nil, a string, a
// []byte or an int64: see Row) equals the value the master returns for the
// same column (as the driver gives it on a prepared statement: nil, int64,
// uint64, float32, float64 or []byte), so that writing it would store what
// is stored already. It is strict: text is compared byte for byte (no
// collation, so 'A' and 'a', or 'a' and 'a ', differ), NULL equals only
// NULL (never ” or 0), DECIMALs, dates and times are compared as the
// master prints them ('1.0' and '1.00' differ), and any pair of forms it
// does not know is different. A wrong "different" costs one write; a wrong
// "same" would lose a change, so every doubt is "different".
func Same(file, master any) bool {
	switch f := file.(type) {
	case nil:
		return master == nil
	case []byte:
		m, ok := master.([]byte)
		return ok && bytes.Equal(f, m)
	case int64:
		switch m := master.(type) {
		case int64:
			return f == m
		case uint64:
			return f >= 0 && uint64(f) == m
		case []byte:
			return string(m) == strconv.FormatInt(f, 10)
		}
		return false
	case string:
		return sameText(f, master)
	}
	return false
}

// sameText compares a value the file has as text with the master's.
func sameText(f string, master any) bool {
	var buf [32]byte
	switch m := master.(type) {
	case []byte:
		return string(m) == f
	case int64:
		return string(strconv.AppendInt(buf[:0], m, 10)) == f
	case uint64:
		return string(strconv.AppendUint(buf[:0], m, 10)) == f
	case float64:
		// The printed forms must agree, and the server, parsing the
		// file's text, must arrive at the very bits it holds.
		if string(strconv.AppendFloat(buf[:0], m, 'g', -1, 64)) != f {
			return false
		}
		v, err := strconv.ParseFloat(f, 64)
		return err == nil && math.Float64bits(v) == math.Float64bits(m)
	case float32:
		// The server parses text into a double and rounds that to a
		// float: check that path, not a direct parse.
		if string(strconv.AppendFloat(buf[:0], float64(m), 'g', -1, 32)) != f {
			return false
		}
		v, err := strconv.ParseFloat(f, 64)
		return err == nil && math.Float32bits(float32(v)) == math.Float32bits(m)
	}
	return false
}

// SameRow reports whether every value of vals is Same as the master's
// value at the same index.
func SameRow(vals, master []any) bool {
	if len(vals) != len(master) {
		return false
	}
	for i, v := range vals {
		if !Same(v, master[i]) {
			return false
		}
	}
	return true
}
