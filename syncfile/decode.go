package syncfile

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// DecodeValue turns one value of an upsert's row into what a statement
// binds: nil for null; a number's exact JSON text (never a float, so
// DECIMAL digits and integers beyond 2^53 survive); a string as it is;
// the bytes of a binary column's base64. The master's server converts,
// and in strict mode refuses what does not fit. The result does not point
// into the reader's buffer.
func DecodeValue(v gjson.Result, binary bool) (any, error) {
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

// DecodeRef reads a reference column's child ID: nil for null, else an
// int64.
func DecodeRef(v gjson.Result) (any, error) {
	if v.Type == gjson.Null {
		return nil, nil
	}
	id, ok, err := DecodeID(v)
	if !ok {
		return nil, err
	}
	return id, nil
}

// DecodeID parses an ID written as a JSON number or, beyond 2^53, as a
// string of digits; ok is false (with the reason) for anything else.
func DecodeID(v gjson.Result) (id int64, ok bool, err error) {
	var text string
	switch v.Type {
	case gjson.Number:
		text = v.Raw
	case gjson.String:
		text = v.Str
	default:
		return 0, false, fmt.Errorf("a reference must be an integer")
	}
	id, err = strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("a reference must be an integer")
	}
	return id, true, nil
}
