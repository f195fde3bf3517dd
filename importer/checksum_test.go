package importer

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"tributary/export"
	"tributary/internal/dbtest"
	"tributary/syncfile"
	"tributary/testdata/civicrm"
)

// stampless makes, on a CiviCRM branch, the changes CiviCRM makes without
// moving any modified date: contacts added to a group, a membership
// removed (status Added -> Removed) and one deleted, a tag added to a
// contact and one taken off, a group renamed, an activity's participant
// taken off.
func stampless(t *testing.T, c *child, round int) {
	t.Helper()
	var untagged, outside []int64
	if err := c.db.Select(&untagged, `SELECT id FROM civicrm_contact WHERE id NOT IN
		(SELECT entity_id FROM civicrm_entity_tag WHERE entity_table = 'civicrm_contact') ORDER BY id LIMIT 2`); err != nil {
		t.Fatal(err)
	}
	var group, tag int64
	if err := c.db.Get(&group, `SELECT MIN(id) FROM civicrm_group WHERE saved_search_id IS NULL`); err != nil {
		t.Fatal(err)
	}
	if err := c.db.Get(&tag, `SELECT MIN(id) FROM civicrm_tag WHERE is_tagset = 0`); err != nil {
		t.Fatal(err)
	}
	if err := c.db.Select(&outside, `SELECT id FROM civicrm_contact WHERE id NOT IN
		(SELECT contact_id FROM civicrm_group_contact WHERE group_id = ?) ORDER BY id DESC LIMIT 3`, group); err != nil {
		t.Fatal(err)
	}
	for _, id := range outside {
		dbtest.Exec(t, c.db, "INSERT INTO civicrm_group_contact (group_id, contact_id, status) VALUES ("+itoa(group)+", "+itoa(id)+", 'Added')")
	}
	for _, id := range untagged {
		dbtest.Exec(t, c.db, "INSERT INTO civicrm_entity_tag (entity_table, entity_id, tag_id) VALUES ('civicrm_contact', "+itoa(id)+", "+itoa(tag)+")")
	}
	dbtest.Exec(t, c.db,
		`UPDATE civicrm_group_contact SET status = 'Removed' WHERE status = 'Added' ORDER BY id LIMIT 2`,
		`DELETE FROM civicrm_group_contact ORDER BY id LIMIT 1`,
		`DELETE FROM civicrm_entity_tag WHERE entity_table = 'civicrm_contact' ORDER BY id LIMIT 1`,
		`UPDATE civicrm_group SET title = CONCAT(title, ' `+itoa(int64(round))+`') ORDER BY id LIMIT 1`,
		`DELETE FROM civicrm_activity_contact ORDER BY id DESC LIMIT 1`)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// snapshotFile returns a function that puts path back as it is now.
func snapshotFile(t *testing.T, path string) func() {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCiviCRMStamplessChangesArrive: with the civicrm preset, changes that
// move no stamp reach the master with the next incremental file, an
// unchanged branch sends none of its checksum tables, and neither a crash
// at any point of an export's commit nor a lost digest file loses one.
func TestCiviCRMStamplessChangesArrive(t *testing.T) {
	ctx := context.Background()
	master := newCiviSide(t)
	side := newCiviSide(t)
	if _, err := civicrm.Generate(ctx, side.db.DB, civicrm.GenerateOptions{Contacts: 150, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := &child{side: side, prefix: "nyc", dir: dir, state: filepath.Join(dir, ".state")}
	digests := export.DigestPath(c.state)
	importFiles(t, master, Options{}, c.export(t, true))
	assertMirrors(t, c, master)

	// Nothing changed: no group, tag or membership travels.
	path := c.export(t, false)
	r, err := syncfile.Open(path, syncfile.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"civicrm_group", "civicrm_tag", "civicrm_saved_search", "civicrm_group_nesting"} {
		if _, ok := r.Header().Tables[name]; ok {
			t.Errorf("unchanged %s is in the header", name)
		}
	}
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if rec.Op == syncfile.OpUpsert {
			t.Errorf("nothing changed, yet the file has a row of %s", rec.Table)
		}
	}
	r.Close()
	importFiles(t, master, Options{}, path)
	assertMirrors(t, c, master)

	stampless(t, c, 1)
	importFiles(t, master, Options{}, c.export(t, false))
	assertMirrors(t, c, master)

	// Killed after the file was written, before the digests and the state.
	restoreState, restoreDigests := snapshotFile(t, c.state), snapshotFile(t, digests)
	stampless(t, c, 2)
	crashed := c.export(t, false)
	restoreDigests()
	restoreState()
	stampless(t, c, 3)
	importFiles(t, master, Options{}, crashed, c.export(t, false))
	assertMirrors(t, c, master)

	// Killed after the digests were written, before the state.
	restoreState = snapshotFile(t, c.state)
	stampless(t, c, 4)
	crashed = c.export(t, false)
	restoreState()
	stampless(t, c, 5)
	importFiles(t, master, Options{}, crashed, c.export(t, false))
	assertMirrors(t, c, master)

	// The digest file lost.
	if err := os.Remove(digests); err != nil {
		t.Fatal(err)
	}
	stampless(t, c, 6)
	importFiles(t, master, Options{}, c.export(t, false))
	assertMirrors(t, c, master)
	assertNoStrays(t, master, "nyc")
}
