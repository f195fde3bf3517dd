package plan

import (
	"testing"

	"github.com/tidwall/gjson"

	"tributary/schema"
	"tributary/syncfile"
)

// Key parts are canonical whatever form a value came in: a bound
// parameter or a value read back from the master.
func TestEncodeKeyIsCanonical(t *testing.T) {
	if EncodeKey([]any{int64(7), "7", []byte("07"), uint64(7)}) != "7\x1f7\x1f7\x1f7" {
		t.Error("key parts are not canonical")
	}
}

// FuzzParseRow: no row a file can carry makes the row parser panic; it
// either converts the row or rejects it.
func FuzzParseRow(f *testing.F) {
	tp := &Table{
		Table: &schema.Table{Name: "t", Key: []string{"id"}, Mapped: true},
		Index: map[string]int{"a": 0, "b": 1, "c": 2, "d": 3},
		Cols: []Column{
			{Name: "a", Nullable: true},
			{Name: "b", Binary: true, Nullable: true},
			{Name: "c", Kind: RefPlain, Target: "t", Nullable: true},
			{Name: "d", Kind: RefPoly, Disc: 0},
		},
	}
	for _, seed := range []string{
		`{"a":"x","b":"AP8=","c":5,"d":"7"}`,
		`{"a":null,"b":null,"c":null,"d":null}`,
		`{"a":1e400,"b":"!!","c":"9007199254740993","d":true}`,
		`{"a":"x","a":"y","b":"","c":1,"d":2}`,
		`{"id":1,"a":"x","b":"","c":-1,"d":0}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		row := gjson.Parse(data)
		if !gjson.Valid(data) || !row.IsObject() {
			return // the reader rejects these before a row is parsed
		}
		r, err := tp.ParseRow(&syncfile.Record{Line: 1, Table: "t", Op: syncfile.OpUpsert, ID: 1, HasID: true, Row: row})
		if err == nil && len(r.Vals) != len(tp.Cols) {
			t.Fatalf("row of %d values for %d columns", len(r.Vals), len(tp.Cols))
		}
	})
}
