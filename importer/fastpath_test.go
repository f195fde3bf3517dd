package importer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tributary/internal/dbtest"
)

// TestBulkUpdateManyRows changes every column of many existing rows in one
// window, so that updates go through multi-row statements of every size
// (chunks padded by repeating a row): each master row must get its own
// child row's values, and no row may be inserted or left out.
func TestBulkUpdateManyRows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch int // rows per batch; 0: the default
	}{
		{name: "default batches"},
		{name: "batches of 7", batch: 7},   // chunks of 7 padded to 16
		{name: "batches of 1", batch: 1},   // one row: the per-row statement
		{name: "batches of 70", batch: 70}, // 64 + 6 padded to 16
	} {
		t.Run(tc.name, func(t *testing.T) {
			master := newSide(t)
			c := newChild(t, "nyc")
			var vals []string
			for i := 1; i <= 150; i++ {
				vals = append(vals, fmt.Sprintf("(%d, 'c%d', '%d.0001', %d, x'%02x')", i, i, i, i, i))
			}
			dbtest.Exec(t, c.db, `INSERT INTO contact (id, display_name, amount, big, photo) VALUES `+strings.Join(vals, ", "))
			// The master's IDs differ from the child's, so a value landing on
			// the row with the child's ID would show.
			dbtest.Exec(t, master.db, `ALTER TABLE contact AUTO_INCREMENT = 1000`)
			importFiles(t, master, Options{BatchRows: tc.batch}, c.export(t, true))
			before := mappingOf(t, master, "nyc")
			stamp := stampFor(c)
			dbtest.Exec(t, c.db,
				`UPDATE contact SET display_name = CONCAT('renamed ', id * 7), amount = IF(id % 3 = 0, NULL, id * 11 + 0.5),
					big = 18446744073709551615 - id, photo = IF(id % 5 = 0, NULL, UNHEX(LPAD(HEX(id * 3), 6, '0'))),
					birth_date = IF(id % 2 = 0, '0000-00-00', '2000-01-01' + INTERVAL id DAY), modified_date = '`+stamp+`'
				WHERE id % 10 <> 4`)
			res := importFiles(t, master, Options{BatchRows: tc.batch}, c.exportCovering(t, c.until)...)
			var updated, inserted int64
			for _, r := range res {
				for _, ts := range r.Tables {
					if ts.Table == "contact" {
						updated += ts.Updated
						inserted += ts.Inserted
					}
				}
			}
			if updated != 135 || inserted != 0 {
				t.Errorf("contacts updated %d, inserted %d; want 135 and 0", updated, inserted)
			}
			assertMirrors(t, c, master)
			assertNoStrays(t, master, "nyc")
			var n int
			if err := master.db.Get(&n, `SELECT COUNT(*) FROM contact`); err != nil || n != 150 {
				t.Errorf("master holds %d contacts (%v), want 150", n, err)
			}
			after := mappingOf(t, master, "nyc")
			for k, id := range before {
				if after[k] != id {
					t.Errorf("%s: master ID %d became %d", k, id, after[k])
				}
			}
		})
	}
}

// TestBulkUpdateFallsBackPerRow: a multi-row UPDATE that the server
// refuses is applied again one row at a time, in the file's order. Here a
// unique value moves from one row to another: free of collisions in the
// file's (child ID) order, but the master's IDs run the other way, and one
// statement updates rows in master ID order, so it collides.
func TestBulkUpdateFallsBackPerRow(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	for _, db := range []*side{master, c.side} {
		dbtest.Exec(t, db.db, `ALTER TABLE contact ADD UNIQUE KEY ui_name (display_name)`)
	}
	// Child 2 reaches the master first, so its master ID is the lower.
	dbtest.Exec(t, c.db, `INSERT INTO contact (id, display_name) VALUES (2, 'b')`)
	importFiles(t, master, Options{}, c.export(t, true))
	stamp := stampFor(c)
	dbtest.Exec(t, c.db, `INSERT INTO contact (id, display_name, modified_date) VALUES (1, 'a', '`+stamp+`')`)
	importFiles(t, master, Options{}, c.exportCovering(t, c.until)...)
	m := mappingOf(t, master, "nyc")
	if m["contact/2"] >= m["contact/1"] {
		t.Fatalf("master IDs %v do not run against the child's", m)
	}
	stamp = stampFor(c)
	dbtest.Exec(t, c.db,
		`UPDATE contact SET display_name = 'z', modified_date = '`+stamp+`' WHERE id = 1`,
		`UPDATE contact SET display_name = 'a', modified_date = '`+stamp+`' WHERE id = 2`)
	res := importFiles(t, master, Options{}, c.exportCovering(t, c.until)...)
	assertMirrors(t, c, master)
	for _, r := range res {
		if r.Attempts != 1 {
			t.Errorf("%d attempts", r.Attempts)
		}
	}
}

// TestPreDeletionsStandAsideForMovedRows: a row given to another owner
// while its old owner was deleted, in one window, must keep its master ID.
// Deleting the old owner before the upserts would take the moved row
// along (it still belongs to the old owner on the master) and insert it
// again under a new ID, so pre-deletions must not run for such a file.
func TestPreDeletionsStandAsideForMovedRows(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedBasic(t, c)
	importFiles(t, master, Options{}, c.export(t, true))
	before := mappingOf(t, master, "nyc")
	stamp := stampFor(c)
	waitPastWindow(c)
	dbtest.Exec(t, c.db,
		`UPDATE email SET contact_id = 2 WHERE id = 2`,
		`UPDATE contact SET modified_date = '`+stamp+`' WHERE id = 2`,
		`DELETE FROM relationship WHERE contact_a = 1 OR contact_b = 1`,
		`DELETE FROM note WHERE entity_table = 'contact' AND entity_id = 1`,
		`UPDATE contact SET employer_id = NULL WHERE employer_id = 1`,
		`DELETE FROM contact WHERE id = 1`)
	files := c.exportCovering(t, c.until)
	res := importFiles(t, master, Options{}, files...)
	assertMirrors(t, c, master)
	assertNoStrays(t, master, "nyc")
	after := mappingOf(t, master, "nyc")
	switch {
	case len(files) > 1:
		// The deletion reached the master in a file before the move (the
		// window had not yet passed the move): the email had to go with
		// its old owner, whatever the order.
		t.Logf("the changes were split over %d files; the moved row's ID is not checked", len(files))
	case before["email/2"] == 0 || after["email/2"] != before["email/2"]:
		t.Errorf("the moved email's master ID went from %d to %d", before["email/2"], after["email/2"])
	}
	if _, ok := after["contact/1"]; ok {
		t.Error("the deleted contact is still mapped")
	}
	for _, r := range res {
		if r.Attempts != 1 {
			t.Errorf("%d attempts", r.Attempts)
		}
	}
}

// TestUniqueCollisionRetriedWhenPreDeletionsStandAside: when pre-deletions
// must stand aside (a moved row) and a deleted row's unique value was
// taken by a new row in the same window, the upserts collide and the file
// is applied again with its deletions first.
func TestUniqueCollisionRetriedWhenPreDeletionsStandAside(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedBasic(t, c)
	for _, db := range []*side{master, c.side} {
		dbtest.Exec(t, db.db, `ALTER TABLE tag ADD UNIQUE KEY ui_name (name)`)
	}
	importFiles(t, master, Options{}, c.export(t, true))
	stamp := stampFor(c)
	waitPastWindow(c)
	dbtest.Exec(t, c.db,
		`UPDATE email SET contact_id = 2 WHERE id = 2`,
		`UPDATE contact SET modified_date = '`+stamp+`' WHERE id = 2`,
		`DELETE FROM relationship WHERE contact_a = 1 OR contact_b = 1`,
		`DELETE FROM note WHERE entity_table = 'contact' AND entity_id = 1`,
		`UPDATE contact SET employer_id = NULL WHERE employer_id = 1`,
		`DELETE FROM contact WHERE id = 1`,
		`DELETE FROM tag WHERE id = 2`,
		`INSERT INTO tag (id, name) VALUES (9, 'leaf')`)
	var warnings []string
	files := c.exportCovering(t, c.until)
	res := importFiles(t, master, Options{Warn: func(s string) { warnings = append(warnings, s) }}, files...)
	last := res[len(res)-1]
	if len(files) > 1 {
		t.Logf("the changes were split over %d files", len(files))
	} else if last.Attempts != 2 || len(warnings) == 0 || !strings.Contains(warnings[0], "deletions first") {
		t.Errorf("attempts %d, warnings %q", last.Attempts, warnings)
	}
	assertMirrors(t, c, master)
	assertNoStrays(t, master, "nyc")
}

// waitPastWindow waits until the next export's window surely ends after
// the last one's end (windows end at whole seconds), so that changes
// stamped with that end and deletions made now travel in one file.
func waitPastWindow(c *child) {
	time.Sleep(time.Until(c.until.Add(1500 * time.Millisecond)))
}

// TestPreDeletionsWithSetNullOfCarriedRow: deleting a contact sets the
// employer of a contact that the file carries to NULL (ON DELETE SET
// NULL). The file's row sets that column itself, so pre-deletions still
// run: the tag that was deleted and made again with its unique name goes
// in at the first attempt, and the master ends as the child.
func TestPreDeletionsWithSetNullOfCarriedRow(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedBasic(t, c)
	for _, db := range []*side{master, c.side} {
		dbtest.Exec(t, db.db, `ALTER TABLE tag ADD UNIQUE KEY ui_name (name)`)
	}
	importFiles(t, master, Options{}, c.export(t, true))
	stamp := stampFor(c)
	waitPastWindow(c)
	dbtest.Exec(t, c.db,
		`DELETE FROM contact WHERE id = 3`, // contact 2's employer: SET NULL on the child
		`UPDATE contact SET display_name = 'Bob again', modified_date = '`+stamp+`' WHERE id = 2`,
		`DELETE FROM tag WHERE id = 2`,
		`INSERT INTO tag (id, name) VALUES (9, 'leaf')`)
	var warnings []string
	files := c.exportCovering(t, c.until)
	res := importFiles(t, master, Options{Warn: func(s string) { warnings = append(warnings, s) }}, files...)
	t.Logf("%d files, attempts %d", len(files), res[len(res)-1].Attempts)
	if last := res[len(res)-1]; len(files) == 1 && (last.Attempts != 1 || len(warnings) != 0) {
		t.Errorf("attempts %d, warnings %q", last.Attempts, warnings)
	}
	assertMirrors(t, c, master)
	assertNoStrays(t, master, "nyc")
}

// TestFullFileNewRowTakesDeletedRowsValue: in a full file, a new row whose
// unique value a row the file deletes still holds on the master (an email
// removed and added again, a tag recreated) is inserted after the
// deletions, in the first attempt; when a row of the file references such
// a row, the file is applied again with its deletions first. Either way
// the master ends as the child.
func TestFullFileNewRowTakesDeletedRowsValue(t *testing.T) {
	uniqueSides := func(t *testing.T) (*side, *child) {
		master, c := newSide(t), newChild(t, "nyc")
		seedBasic(t, c)
		for _, db := range []*side{master, c.side} {
			dbtest.Exec(t, db.db, `ALTER TABLE email ADD UNIQUE KEY ui_contact_email (contact_id, email)`, `ALTER TABLE tag ADD UNIQUE KEY ui_name (name)`)
		}
		importFiles(t, master, Options{}, c.export(t, true))
		return master, c
	}
	applyFull := func(t *testing.T, master *side, c *child) (Result, []string) {
		var warnings []string
		res := importFiles(t, master, Options{Warn: func(s string) { warnings = append(warnings, s) }}, c.export(t, true))
		assertMirrors(t, c, master)
		assertNoStrays(t, master, "nyc")
		return res[0], warnings
	}

	t.Run("set aside", func(t *testing.T) {
		master, c := uniqueSides(t)
		dbtest.Exec(t, c.db,
			`DELETE FROM email WHERE id = 1`,
			`INSERT INTO email (id, contact_id, email) VALUES (50, 1, 'ann@example.org')`,
			`DELETE FROM tag WHERE id = 2`,
			`INSERT INTO tag (id, name) VALUES (9, 'leaf')`)
		res, warnings := applyFull(t, master, c)
		if res.Attempts != 1 || len(warnings) != 0 {
			t.Errorf("attempts %d, warnings %q; want the first attempt to apply it", res.Attempts, warnings)
		}
		assertCounts(t, master, res, map[string][3]int64{"email": {1, 0, 1}, "tag": {1, 0, 1}, "contact_tag": {0, 0, 2}})
	})

	t.Run("referenced", func(t *testing.T) {
		master, c := uniqueSides(t)
		dbtest.Exec(t, c.db,
			`DELETE FROM tag WHERE id = 2`,
			`INSERT INTO tag (id, name) VALUES (9, 'leaf')`,
			`INSERT INTO contact_tag (contact_id, tag_id) VALUES (1, 9)`)
		res, warnings := applyFull(t, master, c)
		if res.Attempts != 2 || len(warnings) != 1 || !strings.Contains(warnings[0], "deletions first") {
			t.Errorf("attempts %d, warnings %q; want a second attempt with the deletions first", res.Attempts, warnings)
		}
	})
}
