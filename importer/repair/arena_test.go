package repair

import (
	"fmt"
	"testing"
)

// TestArena: values come back as they were put (NULL apart from empty,
// text apart from bytes), the last put of an ID wins, and rows larger
// than a block survive.
func TestArena(t *testing.T) {
	var a arena
	big := string(make([]byte, arenaBlock+10))
	a.put(5, []any{"x", nil})
	a.put(3, []any{"", []byte{}})
	a.put(5, []any{"y", int64(-7)})
	a.put(9, []any{big, nil})
	if got := fmt.Sprint(a.ids()); got != "[3 5 9]" {
		t.Fatalf("ids %s, want [3 5 9]", got)
	}
	tests := []struct {
		id   int64
		want string
	}{
		{3, `[]interface {}{"", []uint8{}}`},
		{5, `[]interface {}{"y", -7}`},
	}
	for _, tt := range tests {
		vals, ok := a.get(tt.id, 2)
		if got := fmt.Sprintf("%#v", vals); !ok || got != tt.want {
			t.Errorf("get(%d) = %s, %v; want %s", tt.id, got, ok, tt.want)
		}
	}
	if vals, ok := a.get(9, 2); !ok || vals[0] != big || vals[1] != nil {
		t.Error("a row larger than a block came back changed")
	}
	if _, ok := a.get(4, 2); ok {
		t.Error("get of an ID never put found values")
	}
}
