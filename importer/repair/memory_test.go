package repair

import (
	"fmt"
	"runtime"
	"testing"

	"tributary/importer/plan"
	"tributary/schema"
)

// keptBytesPerRow measures the heap that Values keeps per remembered row
// of a CiviCRM-like contact (two repaired stamps of 19 characters, and a
// name that is not kept), once the rows themselves are garbage.
func keptBytesPerRow(n int) float64 {
	tp := &plan.Table{
		Table: &schema.Table{Name: "civicrm_contact", Key: []string{"id"}, Mapped: true},
		Cols:  []plan.Column{{Name: "display_name"}, {Name: "created_date"}, {Name: "modified_date"}},
		Index: map[string]int{"display_name": 0, "created_date": 1, "modified_date": 2},
	}
	f := &Facts{repair: map[string][]string{"civicrm_contact": {"created_date", "modified_date"}}}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	v := NewValues(f)
	const batch = 1000
	for start := 0; start < n; start += batch {
		rows := make([]*plan.Row, batch)
		for i := range rows {
			id := int64(start + i + 1)
			rows[i] = &plan.Row{ID: id, Master: id, Vals: []any{
				fmt.Sprintf("Contact number %d", id),
				fmt.Sprintf("2020-01-%02d 10:00:00", 1+id%28),
				fmt.Sprintf("2024-05-%02d 11:30:00", 1+id%28),
			}}
		}
		v.Remember(tp, rows)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// TestRememberMemory: the values kept to undo master triggers cost a
// fixed, small number of bytes per row, so a file of millions of contacts
// keeps the import's memory flat. (Run with -v for the figure.)
func TestRememberMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 200,000 rows")
	}
	per := keptBytesPerRow(200000)
	t.Logf("values kept to undo master triggers: %.0f bytes per contact", per)
	if per > 100 {
		t.Errorf("%.0f bytes kept per contact, want at most 100 (two 19-byte stamps)", per)
	}
}
