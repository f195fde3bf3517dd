package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checksumMap is testMap with detect: checksum on the tables whose
// changes move no stamp.
const checksumMap = `
shared: [location_type, tag]
tables:
  contact:       { track: modified, exclude: [api_key] }
  phone:         { owner: contact_id }
  grp:           { snapshot: true, detect: checksum }
  group_contact: { owner: contact_id, detect: checksum }
  activity:      { track: modified }
  note:
    track: modified
    references:
      entity_id: { table_from: entity_table }
  entity_tag:
    owner: entity_id
    detect: checksum
    references:
      entity_id: { table_from: entity_table }
`

func TestDigestFileRoundTripAndDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.state.digests")
	d := &Digests{Prefix: "nyc", Stream: "abc", Sequence: 7, Audited: 7, Tables: map[string]*TableDigests{
		"t": {Shape: "owner x", Chunks: map[string]string{"0": "3:ff"}},
	}}
	if err := SaveDigests(path, d); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != StateMode {
		t.Fatalf("mode %v, %v", info.Mode(), err)
	}
	got, why := LoadDigests(path)
	if why != "" || got.Sequence != 7 || got.Tables["t"].Chunks["0"] != "3:ff" {
		t.Fatalf("loaded %+v (%s)", got, why)
	}
	if why := got.usableWith(&State{Prefix: "nyc", Stream: "abc", Sequence: 8}); !strings.Contains(why, "not file 8") {
		t.Errorf("digests of file 7 used with state of file 8: %q", why)
	}
	if why := got.usableWith(&State{Prefix: "nyc", Stream: "other", Sequence: 7}); why == "" {
		t.Error("digests of another stream used")
	}
	data, _ := os.ReadFile(path)
	for name, bad := range map[string]string{
		"edited": strings.Replace(string(data), "3:ff", "3:fe", 1),
		"torn":   string(data[:len(data)/2]),
		"empty":  "",
	} {
		os.WriteFile(path, []byte(bad), 0o600)
		if d, why := LoadDigests(path); d != nil || !strings.Contains(why, "damaged") {
			t.Errorf("%s: loaded %v (%q)", name, d, why)
		}
	}
	os.Remove(path)
	if d, why := LoadDigests(path); d != nil || why != "it is missing" {
		t.Errorf("missing: %v %q", d, why)
	}
}

// Changes that move no stamp arrive with the next incremental file; an
// unchanged snapshot is left out of it, header included.
func TestChecksumSendsStamplessChanges(t *testing.T) {
	f := newFixture(t, testSchema, checksumMap)
	f.exec(`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2001-01-01 00:00:01'), (2, 'Bob', '2001-01-01 00:00:01'), (15, 'Di', '2001-01-01 00:00:01'), (250, 'Cy', '2001-01-01 00:00:01')`,
		`INSERT INTO grp (id, title) VALUES (1, 'Members'), (2, 'Board')`,
		`INSERT INTO group_contact (group_id, contact_id) VALUES (1, 1), (1, 15), (2, 250)`,
		`INSERT INTO entity_tag (entity_table, entity_id, tag_id) VALUES ('contact', 2, 1)`)
	f.export("2001-01-01 00:00:10")
	if _, why := LoadDigests(DigestPath(DefaultStatePath(f.out, "nyc"))); why != "" {
		t.Fatalf("no digests after the full file: %s", why)
	}

	res, file := f.export("2001-01-01 00:00:20")
	if _, ok := file.Header.Tables["grp"]; ok || len(file.ids("grp")) != 0 || len(file.ids("contact")) != 0 {
		t.Errorf("nothing changed, yet the file has grp %v (header: %v), contacts %v", file.ids("grp"), ok, file.ids("contact"))
	}
	if res.Checksum["group_contact"] != 0 || res.Checksum["grp"] != 0 || res.Checksum["entity_tag"] != 0 {
		t.Errorf("changed chunks = %v", res.Checksum)
	}

	// A membership added, one removed, a tag added: no stamp moves.
	f.exec(`UPDATE group_contact SET status = 'Removed' WHERE contact_id = 1`,
		`INSERT INTO entity_tag (entity_table, entity_id, tag_id) VALUES ('contact', 250, 2)`)
	res, file = f.export("2001-01-01 00:00:30")
	if ids := file.ids("contact"); !eqIDs(ids, 1, 2, 250) {
		t.Errorf("contacts = %v, want the owners of the changed chunks of ten owner IDs, 0-9 and 250-259 (not 15)", ids)
	}
	if rows := file.rows("group_contact"); len(rows) != 2 || !strings.Contains(strings.Join(rows, ""), "Removed") {
		t.Errorf("group_contact rows = %v", rows)
	}
	if rows := file.rows("entity_tag"); len(rows) != 2 {
		t.Errorf("entity_tag rows = %v", rows)
	}
	if _, ok := file.Header.Tables["grp"]; ok {
		t.Error("grp did not change, yet it is in the header")
	}

	// A group renamed: the snapshot goes whole.
	f.exec(`UPDATE grp SET title = 'All members' WHERE id = 1`)
	_, file = f.export("2001-01-01 00:00:40")
	if ids := file.ids("grp"); !eqIDs(ids, 1, 2) || len(file.ids("contact")) != 0 {
		t.Errorf("grp = %v, contacts = %v", ids, file.ids("contact"))
	}

	// A membership deleted with its contact's chunk: ON DELETE SET NULL
	// changes grp.created_id without a stamp, and the group goes whole.
	f.exec(`UPDATE grp SET created_id = 2 WHERE id = 2`)
	f.export("2001-01-01 00:00:50")
	f.exec(`DELETE FROM contact WHERE id = 2`)
	_, file = f.export("2001-01-01 00:01:00")
	if rows := file.rows("grp"); len(rows) != 2 || strings.Contains(strings.Join(rows, ""), `"created_id":2`) {
		t.Errorf("grp rows after ON DELETE SET NULL = %v", rows)
	}
}

// A lost, damaged or outdated digest file makes the next export send the
// checksum tables whole, and say so.
func TestChecksumWithoutDigestsSendsWhole(t *testing.T) {
	f := newFixture(t, testSchema, checksumMap)
	f.exec(`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2001-01-01 00:00:01'), (500, 'Bob', '2001-01-01 00:00:01')`,
		`INSERT INTO grp (id, title) VALUES (1, 'Members')`,
		`INSERT INTO group_contact (group_id, contact_id) VALUES (1, 1)`)
	f.export("2001-01-01 00:00:10")
	path := DigestPath(DefaultStatePath(f.out, "nyc"))
	for i, spoil := range []func(){
		func() { os.Remove(path) },
		func() { os.WriteFile(path, []byte("{}\nsha256 00\n"), 0o600) },
		func() {
			// the digests of the file before: as if killed between the file and the digests
			d, _ := LoadDigests(path)
			d.Sequence--
			SaveDigests(path, d)
		},
	} {
		spoil()
		f.warnings = nil
		now := []string{"2001-01-01 00:00:20", "2001-01-01 00:00:30", "2001-01-01 00:00:40"}[i]
		res, file := f.export(now)
		if ids := file.ids("contact"); !eqIDs(ids, 1, 500) {
			t.Errorf("case %d: contacts = %v, want every owner", i, ids)
		}
		if ids := file.ids("grp"); !eqIDs(ids, 1) {
			t.Errorf("case %d: grp = %v", i, ids)
		}
		if res.Checksum["group_contact"] != -1 || !f.warned("cannot be used") {
			t.Errorf("case %d: changed = %v, warnings %q", i, res.Checksum, f.warnings)
		}
		// and the next export is back to normal
		f.warnings = nil
		_, file = f.export(now[:len(now)-1] + "5")
		if len(file.ids("contact")) != 0 || len(f.warnings) != 0 {
			t.Errorf("case %d: afterwards contacts %v, warnings %q", i, file.ids("contact"), f.warnings)
		}
	}
}

// A track table with detect: checksum is audited: rows changed without
// their stamp (here by hand, and by ON DELETE SET NULL) are sent with the
// next audit, every AuditEvery files, and only their chunk.
func TestChecksumAuditsTrackTables(t *testing.T) {
	auditMap := strings.Replace(checksumMap, "contact:       { track: modified, exclude: [api_key] }",
		"contact:       { track: modified, exclude: [api_key], detect: checksum }", 1)
	f := newFixture(t, testSchema, auditMap)
	f.exec(`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2001-01-01 00:00:01'), (2, 'Bob', '2001-01-01 00:00:01'), (1500, 'Cy', '2001-01-01 00:00:01')`,
		`UPDATE contact SET employer_id = 2 WHERE id = 1500`)
	f.export("2001-01-01 00:00:10")

	every2 := func(o *Options) { o.AuditEvery = 2 }
	f.exec(`UPDATE contact SET name = 'Ann B' WHERE id = 1`)
	_, file := f.export("2001-01-01 00:00:20", every2) // file 2: the last audit was file 1
	if ids := file.ids("contact"); len(ids) != 0 {
		t.Errorf("no audit due, yet contacts %v", ids)
	}
	_, file = f.export("2001-01-01 00:00:30", every2) // file 3: audit
	if ids := file.ids("contact"); !eqIDs(ids, 1, 2) {
		t.Errorf("audit sent contacts %v, want chunk 0 (1, 2)", ids)
	}

	// Deleting contact 2 sets 1500's employer to NULL without a stamp.
	f.exec(`DELETE FROM contact WHERE id = 2`)
	_, file = f.export("2001-01-01 00:00:40", func(o *Options) { o.AuditEvery = -1 })
	if ids := file.ids("contact"); len(ids) != 0 {
		t.Errorf("audits off, yet contacts %v", ids)
	}
	_, file = f.export("2001-01-01 00:00:50")
	// chunk 0 lost contact 2, chunk 1 has 1500's change
	if ids := file.ids("contact"); !eqIDs(ids, 1, 1500) {
		t.Errorf("after ON DELETE SET NULL the audit sent contacts %v", ids)
	}
	for _, r := range file.Records {
		if r.Table == "contact" && r.ID == 1500 && !strings.Contains(r.Row, `"employer_id":null`) {
			t.Errorf("contact 1500 = %s", r.Row)
		}
	}
	if live := file.live("contact"); len(live) != 2 || live[0] != [2]int64{1, 1} || live[1] != [2]int64{1500, 1500} {
		t.Errorf("live = %v", live)
	}
}
