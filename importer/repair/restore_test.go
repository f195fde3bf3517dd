package repair

import (
	"fmt"
	"testing"
)

// TestDiffering: the repair writes back only the columns whose value the
// master no longer holds exactly.
func TestDiffering(t *testing.T) {
	tests := []struct {
		name      string
		want, cur []any
		cols      string
	}{
		{"nothing moved", []any{"2020-01-01 00:00:00", nil}, []any{[]byte("2020-01-01 00:00:00"), nil}, "[]"},
		{"the stamp moved", []any{"2020-01-01 00:00:00", nil}, []any{[]byte("2024-05-05 10:00:00"), nil}, "[0]"},
		{"a NULL was filled", []any{"2020-01-01 00:00:00", nil}, []any{[]byte("2020-01-01 00:00:00"), []byte("2024-05-05 10:00:00")}, "[1]"},
		{"both", []any{"a", nil}, []any{[]byte("b"), []byte("")}, "[0 1]"},
		{"a value the master does not return", []any{"a", "b"}, []any{[]byte("a")}, "[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Differing(tt.want, tt.cur)
			if got == nil {
				got = []int{}
			}
			if fmt.Sprint(got) != tt.cols {
				t.Errorf("Differing = %v, want %s", got, tt.cols)
			}
		})
	}
}
