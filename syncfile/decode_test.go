package syncfile

import (
	"reflect"
	"testing"

	"github.com/tidwall/gjson"
)

func TestDecodeValue(t *testing.T) {
	row := gjson.Parse(`{"n":12345678901234567890,"d":"0.10","s":"a\"b","z":"0000-00-00","b":"AP8=","e":"","null":null,"t":true}`)
	tests := []struct {
		key    string
		binary bool
		want   any
		err    bool
	}{
		{key: "n", want: "12345678901234567890"}, // the exact JSON text, never a float
		{key: "d", want: "0.10"},
		{key: "s", want: `a"b`},
		{key: "z", want: "0000-00-00"},
		{key: "b", binary: true, want: []byte{0, 0xff}},
		{key: "e", binary: true, want: []byte{}}, // empty, not NULL
		{key: "null", want: nil},
		{key: "t", err: true},
		{key: "n", binary: true, err: true},
		{key: "s", binary: true, err: true},
	}
	for _, tt := range tests {
		got, err := DecodeValue(row.Get(tt.key), tt.binary)
		if (err != nil) != tt.err || (!tt.err && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("DecodeValue(%s, binary=%t) = %#v, %v; want %#v", tt.key, tt.binary, got, err, tt.want)
		}
	}
	if id, ok, _ := DecodeID(gjson.Parse(`"9007199254740993"`)); !ok || id != 9007199254740993 {
		t.Errorf("a reference beyond 2^53 as a string: %d %t", id, ok)
	}
	if _, ok, _ := DecodeID(gjson.Parse(`1.5`)); ok {
		t.Error("a fractional reference was accepted")
	}
}
