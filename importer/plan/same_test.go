package plan

import (
	"math"
	"testing"
)

// TestSame: a value counts as unchanged only when writing it would store
// what the master holds; every near miss a loose compare would accept is
// different.
func TestSame(t *testing.T) {
	tests := []struct {
		name   string
		file   any
		master any
		want   bool
	}{
		{"null and null", nil, nil, true},
		{"null and empty text", nil, []byte{}, false},
		{"empty text and null", "", nil, false},
		{"zero and null", "0", nil, false},
		{"null and zero", nil, int64(0), false},
		{"same text", "Ann", []byte("Ann"), true},
		{"trailing space", "a ", []byte("a"), false},
		{"trailing space on the master", "a", []byte("a "), false},
		{"case", "A", []byte("a"), false},
		{"decimal digits", "1.0", []byte("1.00"), false},
		{"decimal", "1.00", []byte("1.00"), true},
		{"datetime fraction", "2020-01-01 00:00:00", []byte("2020-01-01 00:00:00.000000"), false},
		{"zero date", "0000-00-00", []byte("0000-00-00"), true},
		{"integer", "42", int64(42), true},
		{"integer written otherwise", "042", int64(42), false},
		{"negative integer", "-1", int64(-1), true},
		{"big unsigned", "18446744073709551615", uint64(math.MaxUint64), true},
		{"reference", int64(7), int64(7), true},
		{"other reference", int64(7), int64(8), false},
		{"reference, unsigned", int64(7), uint64(7), true},
		{"reference and null", int64(0), nil, false},
		{"binary", []byte{0, 1}, []byte{0, 1}, true},
		{"binary, one byte more", []byte{0, 1}, []byte{0, 1, 0}, false},
		{"binary and text", []byte("a"), "a", false},
		{"double", "40.7128", 40.7128, true},
		{"double printed otherwise", "1e20", 1e20, false},
		{"double, other value", "0.1", 0.2, false},
		{"float", "0.1", float32(0.1), true},
		{"float, other value", "0.1", float32(0.2), false},
		{"negative zero", "0", math.Copysign(0, -1), false},
		{"unknown form", "1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Same(tt.file, tt.master); got != tt.want {
				t.Errorf("Same(%#v, %#v) = %v, want %v", tt.file, tt.master, got, tt.want)
			}
		})
	}
	if SameRow([]any{"a", nil}, []any{[]byte("a")}) {
		t.Error("rows of different lengths are the same")
	}
	if !SameRow([]any{"a", nil, int64(3)}, []any{[]byte("a"), nil, int64(3)}) {
		t.Error("equal rows differ")
	}
}
