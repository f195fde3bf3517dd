package importer

import (
	"context"
	"fmt"
	"testing"

	"tributary/internal/dbtest"
	"tributary/mapping"
)

// TestUpdatedCountsChangedRows: "updated" counts the rows the server
// changed, in the result and the ledger. A full file that changes
// nothing updates nothing; a row whose only change is a reference to a
// row the same file inserts (written in the second pass) is updated.
func TestUpdatedCountsChangedRows(t *testing.T) {
	for _, batch := range []int{0, 1} { // multi-row statements, and one row each
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			master := newSide(t)
			c := newChild(t, "nyc")
			seed(t, c)
			dbtest.Exec(t, c.db,
				`INSERT INTO tag (id, name) VALUES (1, 'a'), (2, 'b')`,
				`INSERT INTO contact_tag (contact_id, tag_id, added) VALUES (1, 1, '2020-01-01'), (2, 2, NULL)`)
			opts := Options{BatchRows: batch}
			importFiles(t, master, opts, c.export(t, true))

			res := importFiles(t, master, opts, c.export(t, true))
			assertCounts(t, master, res[0], map[string][3]int64{})

			// A stamp-less change of one email (only a full file sees it)
			// and a renamed contact; the other rows are sent unchanged.
			dbtest.Exec(t, c.db,
				`UPDATE email SET email = 'new@example.org' WHERE contact_id = 2`,
				`UPDATE contact SET display_name = 'Ann Renamed', modified_date = modified_date WHERE id = 1`,
				`UPDATE contact_tag SET added = '2021-01-01' WHERE contact_id = 2`)
			res = importFiles(t, master, opts, c.export(t, true))
			assertCounts(t, master, res[0], map[string][3]int64{"contact": {0, 1, 0}, "email": {0, 1, 0}, "contact_tag": {0, 1, 0}})

			// Contact 3 gets an employer the same file inserts; nothing
			// else of it changes, so its first write (employer still NULL,
			// until the second pass) changes nothing.
			dbtest.Exec(t, c.db,
				`INSERT INTO contact (id, display_name) VALUES (4, 'Boss')`,
				`UPDATE contact SET employer_id = 4, modified_date = modified_date WHERE id = 3`)
			res = importFiles(t, master, opts, c.export(t, true))
			assertCounts(t, master, res[0], map[string][3]int64{"contact": {1, 1, 0}})
			assertMirrors(t, c, master)
		})
	}
}

// assertCounts compares a result's per-table counts (inserted, updated,
// deleted; tables not named: all zero) and the ledger's totals with want.
func assertCounts(t *testing.T, master *side, r Result, want map[string][3]int64) {
	t.Helper()
	var total [3]int64
	for _, w := range want {
		for i := range w {
			total[i] += w[i]
		}
	}
	got := map[string][3]int64{}
	for _, ts := range r.Tables {
		if ts.Inserted != 0 || ts.Updated != 0 || ts.Deleted != 0 {
			got[ts.Table] = [3]int64{ts.Inserted, ts.Updated, ts.Deleted}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: per table (inserted, updated, deleted) %v, want %v", r.Path, got, want)
	}
	if r.Inserted != total[0] || r.Updated != total[1] || r.Deleted != total[2] {
		t.Errorf("%s: totals %d/%d/%d, want %v", r.Path, r.Inserted, r.Updated, r.Deleted, total)
	}
	last, err := mapping.LedgerLast(context.Background(), master.db, "nyc")
	if err != nil || last == nil {
		t.Fatalf("ledger: %v", err)
	}
	if last.Inserted != total[0] || last.Updated != total[1] || last.Deleted != total[2] {
		t.Errorf("ledger says %d/%d/%d, want %v", last.Inserted, last.Updated, last.Deleted, total)
	}
}
