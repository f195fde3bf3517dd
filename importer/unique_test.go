package importer

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"tributary/importer/internal/testschema"
	"tributary/internal/dbtest"
	"tributary/mapping"
)

// uniqueMap is the test map with a policy on tag's unique name.
func uniqueMap(policy string) string {
	return strings.Replace(testschema.Map, "tag: { snapshot: true }", "tag: { snapshot: true, unique: { name: "+policy+" } }", 1)
}

// newUniqueSide is a database of the test schema whose tags have unique
// names (as CiviCRM's do), resolved with a map that gives the key policy
// ("" for none).
func newUniqueSide(t *testing.T, policy string) *side {
	t.Helper()
	db, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, db, testschema.Statements...)
	dbtest.Exec(t, db, `ALTER TABLE tag MODIFY name VARCHAR(16) NOT NULL, ADD UNIQUE KEY UI_name (name)`)
	text := testschema.Map
	if policy != "" {
		text = uniqueMap(policy)
	}
	return newSideWithMap(t, db, text)
}

func newUniqueChild(t *testing.T, prefix, policy string) *child {
	dir := t.TempDir()
	return &child{side: newUniqueSide(t, policy), prefix: prefix, dir: dir, state: dir + "/.state-" + prefix}
}

// masterTags returns the master's tags: name -> master ID.
func masterTags(t *testing.T, master *side) map[string]int64 {
	t.Helper()
	var rows []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := master.db.Select(&rows, "SELECT id, name FROM tag"); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Name] = r.ID
	}
	return out
}

func holders(t *testing.T, master *side) map[int64]string {
	t.Helper()
	var rows []struct {
		ID      int64  `db:"master_entity_id"`
		Creator string `db:"creator"`
	}
	if err := master.db.Select(&rows, "SELECT master_entity_id, creator FROM "+mapping.HoldersTable+" WHERE entity_table = 'tag'"); err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, r := range rows {
		out[r.ID] = r.Creator
	}
	return out
}

func count(t *testing.T, master *side, query string, args ...any) int {
	t.Helper()
	var n int
	if err := master.db.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// changeAndSync runs statements on the child, exports until the change is
// in a file, and imports the files.
func changeAndSync(t *testing.T, c *child, master *side, statements ...string) []Result {
	t.Helper()
	dbtest.Exec(t, c.db, statements...)
	return importFiles(t, master, Options{}, c.exportCovering(t, time.Now())...)
}

// TestMatchSharesOneMasterRow: the master's own tag and two branches'
// tags of the same name end as one master row that all three hold; a
// contact_tag of each branch points at it; deleting the tag on one
// branch removes only that branch's mapping and its own contact_tags, and
// the master's own row survives every branch letting go.
func TestMatchSharesOneMasterRow(t *testing.T) {
	master := newUniqueSide(t, "match")
	dbtest.Exec(t, master.db, `INSERT INTO tag (id, name) VALUES (40, 'Volunteer')`, `ALTER TABLE tag AUTO_INCREMENT = 70`)
	nyc, bos := newUniqueChild(t, "nyc", "match"), newUniqueChild(t, "bos", "match")
	dbtest.Exec(t, nyc.db,
		`INSERT INTO tag (id, name) VALUES (1, 'Volunteer'), (2, 'Donor')`,
		`INSERT INTO contact (id, display_name) VALUES (1, 'Ann')`,
		`INSERT INTO contact_tag (contact_id, tag_id) VALUES (1, 1), (1, 2)`)
	dbtest.Exec(t, bos.db,
		`INSERT INTO tag (id, name) VALUES (5, 'Board'), (6, 'Volunteer'), (7, 'Donor')`,
		`INSERT INTO contact (id, display_name) VALUES (3, 'Bea')`,
		`INSERT INTO contact_tag (contact_id, tag_id) VALUES (3, 6), (3, 7)`)

	res := importFiles(t, master, Options{}, nyc.export(t, true))
	if tc := tableStats(res[0], "tag"); tc.Inserted != 1 || tc.Matched != 1 || res[0].Inserted != 4 || res[0].Matched != 1 {
		t.Errorf("nyc: tag %+v, %d inserted in all; want 1 tag inserted (Donor), 1 matched (Volunteer), 4 in all (Donor, Ann, her 2 contact_tags)", tc, res[0].Inserted)
	}
	res = importFiles(t, master, Options{}, bos.export(t, true))
	if tc := tableStats(res[0], "tag"); tc.Inserted != 1 {
		t.Errorf("bos: tag %+v, want 1 inserted (Board)", tc)
	}
	tags := masterTags(t, master)
	if len(tags) != 3 || tags["Volunteer"] != 40 {
		t.Fatalf("master tags %v, want Volunteer (the master's own, 40), Donor and Board", tags)
	}
	nm, bm := mappingOf(t, master, "nyc"), mappingOf(t, master, "bos")
	if nm["tag/1"] != 40 || bm["tag/6"] != 40 || nm["tag/2"] != bm["tag/7"] || nm["tag/2"] == 0 {
		t.Errorf("mappings nyc %v bos %v: both Volunteers should map to 40, both Donors to one row", nm, bm)
	}
	if h := holders(t, master); h[40] != "" || h[tags["Donor"]] != "nyc" || len(h) != 2 {
		t.Errorf("holders %v: want 40 the master's own (''), Donor created by nyc", h)
	}
	if n := count(t, master, "SELECT COUNT(*) FROM contact_tag WHERE tag_id = 40"); n != 2 {
		t.Errorf("%d contact_tags point at the shared Volunteer, want 2 (one per branch)", n)
	}
	assertMirrors(t, nyc, master)
	assertMirrors(t, bos, master)

	// nyc lets go of both shared tags: its contact_tags of them go, bos's stay;
	// Donor is handed over to bos, who still holds it.
	changeAndSync(t, nyc, master, `DELETE FROM tag WHERE id IN (1, 2)`)
	tags = masterTags(t, master)
	if len(tags) != 3 {
		t.Fatalf("master tags %v after nyc deleted its shared tags, want all three", tags)
	}
	if n := count(t, master, "SELECT COUNT(*) FROM contact_tag"); n != 2 {
		t.Errorf("%d contact_tags, want bos's 2", n)
	}
	if h := holders(t, master); h[40] != "" || h[tags["Donor"]] != "bos" {
		t.Errorf("holders %v: want 40 still the master's own, Donor handed over to bos", h)
	}
	if nm := mappingOf(t, master, "nyc"); nm["tag/1"] != 0 || nm["tag/2"] != 0 {
		t.Errorf("nyc still maps its deleted tags: %v", nm)
	}
	assertMirrors(t, nyc, master)
	assertMirrors(t, bos, master)

	// bos lets go too: the master's own Volunteer stays; Donor, created by
	// a branch and held by none, goes.
	changeAndSync(t, bos, master, `DELETE FROM tag WHERE id IN (6, 7)`)
	tags = masterTags(t, master)
	if len(tags) != 2 || tags["Volunteer"] != 40 || tags["Board"] == 0 {
		t.Errorf("master tags %v, want the master's own Volunteer and bos's Board", tags)
	}
	if h := holders(t, master); len(h) != 0 {
		t.Errorf("holders %v, want none: nothing is shared any more", h)
	}
	assertMirrors(t, bos, master)
}

// TestMatchNeverOverwritesAnothersRow: a branch that did not create a
// shared row does not write its columns; its creator does.
func TestMatchNeverOverwritesAnothersRow(t *testing.T) {
	master := newUniqueSide(t, "match")
	nyc, bos := newUniqueChild(t, "nyc", "match"), newUniqueChild(t, "bos", "match")
	dbtest.Exec(t, nyc.db, `INSERT INTO tag (id, name, parent_id) VALUES (1, 'Root', NULL), (2, 'Shared', NULL)`)
	dbtest.Exec(t, bos.db, `INSERT INTO tag (id, name, parent_id) VALUES (1, 'Other', NULL), (2, 'Shared', 1)`)
	importFiles(t, master, Options{}, nyc.export(t, true))
	res := importFiles(t, master, Options{}, bos.export(t, true))
	if tc := tableStats(res[0], "tag"); tc.Matched != 1 || tc.Inserted != 1 {
		t.Errorf("bos: tag %+v, want 1 matched, 1 inserted", tc)
	}
	if n := count(t, master, "SELECT COUNT(*) FROM tag WHERE name = 'Shared' AND parent_id IS NULL"); n != 1 {
		t.Error("bos, which did not create Shared, changed its parent")
	}
	// A later file of bos with Shared changed leaves it alone too; nyc's change lands.
	changeAndSync(t, bos, master, `UPDATE tag SET parent_id = NULL WHERE id = 2`, `UPDATE tag SET parent_id = 2 WHERE id = 1`)
	changeAndSync(t, nyc, master, `UPDATE tag SET parent_id = 1 WHERE id = 2`)
	var parent string
	if err := master.db.Get(&parent, "SELECT p.name FROM tag t JOIN tag p ON p.id = t.parent_id WHERE t.name = 'Shared'"); err != nil || parent != "Root" {
		t.Errorf("Shared's parent on the master is %q (%v), want nyc's Root", parent, err)
	}
	assertMirrors(t, nyc, master)
}

// TestNoPolicyRejectsNamingThePolicy: without a policy, a collision stays a
// rejection that names the table, key, child ID and the policies.
func TestNoPolicyRejectsNamingThePolicy(t *testing.T) {
	master := newUniqueSide(t, "")
	nyc, bos := newUniqueChild(t, "nyc", ""), newUniqueChild(t, "bos", "")
	dbtest.Exec(t, nyc.db, `INSERT INTO tag (id, name) VALUES (1, 'Volunteer')`)
	dbtest.Exec(t, bos.db, `INSERT INTO tag (id, name) VALUES (1, 'Board'), (8, 'Volunteer')`)
	importFiles(t, master, Options{}, nyc.export(t, true))
	expectRejected(t, master, Options{}, nil, "tag child ID 8: the master already holds its value in unique key UI_name (name)", bos.export(t, true))
	_, err := Run(context.Background(), master.db.DB, master.s, []string{bos.export(t, true)}, Options{})
	if err == nil || !strings.Contains(err.Error(), "`unique: {name: match}`") || !strings.Contains(err.Error(), "`unique: {name: rename}`") {
		t.Errorf("the rejection does not name the policies: %v", err)
	}
}

func tableStats(r Result, table string) TableStats {
	for _, ts := range r.Tables {
		if ts.Table == table {
			return ts
		}
	}
	return TableStats{}
}

// TestRenameKeepsBothRows: under rename each branch's tag is stored with
// its prefix; a form the master holds already (its own "Members (nyc)")
// makes way for the next; a value is cut by characters to fit the column
// (VARCHAR(16) here); an unchanged row keeps its form; a prefix too long
// for the column rejects the file.
func TestRenameKeepsBothRows(t *testing.T) {
	master := newUniqueSide(t, "rename")
	dbtest.Exec(t, master.db, `INSERT INTO tag (id, name) VALUES (40, 'Members (nyc)')`)
	nyc, bos := newUniqueChild(t, "nyc", "rename"), newUniqueChild(t, "bos", "rename")
	dbtest.Exec(t, nyc.db,
		`INSERT INTO tag (id, name) VALUES (1, 'Members'), (2, 'Grün-Volunteers'), (3, 'Donor')`,
		`INSERT INTO contact (id, display_name) VALUES (1, 'Ann')`,
		`INSERT INTO contact_tag (contact_id, tag_id) VALUES (1, 1)`)
	dbtest.Exec(t, bos.db, `INSERT INTO tag (id, name) VALUES (1, 'Members'), (2, 'Grün-Volunteers')`)
	res := importFiles(t, master, Options{}, nyc.export(t, true))
	if tc := tableStats(res[0], "tag"); tc.Inserted != 3 || tc.Renamed != 3 {
		t.Errorf("nyc: tag %+v, want 3 inserted, 3 renamed", tc)
	}
	importFiles(t, master, Options{}, bos.export(t, true))
	want := []string{"Donor (nyc)", "Grün-Volun (bos)", "Grün-Volun (nyc)", "Members (bos)", "Members (nyc 2)", "Members (nyc)"}
	assertTagNames(t, master, want)
	if n := count(t, master, "SELECT COUNT(*) FROM contact_tag ct JOIN tag ON tag.id = ct.tag_id WHERE tag.name = 'Members (nyc 2)'"); n != 1 {
		t.Error("nyc's contact_tag does not point at its renamed Members")
	}
	assertMirrors(t, nyc, master)
	assertMirrors(t, bos, master)

	// The master's own row goes; nyc's Members keeps "(nyc 2)": an
	// unchanged row is not renamed again.
	dbtest.Exec(t, master.db, `DELETE FROM tag WHERE id = 40`)
	res = importFiles(t, master, Options{}, nyc.export(t, false))
	if tc := tableStats(res[0], "tag"); tc.Updated != 0 || tc.Renamed != 0 {
		t.Errorf("nyc unchanged: tag %+v, want nothing updated or renamed", tc)
	}
	// A changed value gets the first free form.
	changeAndSync(t, nyc, master, `UPDATE tag SET name = 'Donors' WHERE id = 3`)
	assertTagNames(t, master, []string{"Donors (nyc)", "Grün-Volun (bos)", "Grün-Volun (nyc)", "Members (bos)", "Members (nyc 2)"})
	assertMirrors(t, nyc, master)

	// " (branch_fifteen)" leaves no room in 16 characters.
	long := newUniqueChild(t, "branch_fifteen", "rename")
	dbtest.Exec(t, long.db, `INSERT INTO tag (id, name) VALUES (1, 'Members')`)
	expectRejected(t, master, Options{}, nil, "name cannot hold its value renamed for key UI_name", long.export(t, true))
}

func assertTagNames(t *testing.T, master *side, want []string) {
	t.Helper()
	var got []string
	if err := master.db.Select(&got, "SELECT name FROM tag ORDER BY name"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("master tags %q, want %q", got, want)
	}
}

// TestMatchConcurrentImports: two branches bring the same new tag at the
// same time, each import on its own connection: one master row, both
// mapped to it.
func TestMatchConcurrentImports(t *testing.T) {
	master := newUniqueSide(t, "match")
	children := []*child{newUniqueChild(t, "nyc", "match"), newUniqueChild(t, "bos", "match")}
	var files []string
	for _, c := range children {
		dbtest.Exec(t, c.db, `INSERT INTO tag (id, name) VALUES (3, 'Local `+c.prefix+`'), (4, 'Shared')`,
			`INSERT INTO contact (id, display_name) VALUES (1, 'Ann')`,
			`INSERT INTO contact_tag (contact_id, tag_id) VALUES (1, 4)`)
		files = append(files, c.export(t, true))
	}
	start := make(chan struct{})
	errs := make(chan error, len(files))
	for _, f := range files {
		go func() {
			<-start
			_, err := Run(context.Background(), master.db.DB, master.s, []string{f}, Options{RetryBackoff: 10 * time.Millisecond, Retries: 5})
			errs <- err
		}()
	}
	close(start)
	for range files {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent import: %v", err)
		}
	}
	tags := masterTags(t, master)
	if len(tags) != 3 || tags["Shared"] == 0 {
		t.Fatalf("master tags %v, want one Shared and each branch's own", tags)
	}
	for _, c := range children {
		if m := mappingOf(t, master, c.prefix); m["tag/4"] != tags["Shared"] {
			t.Errorf("%s maps its Shared to %d, want %d", c.prefix, m["tag/4"], tags["Shared"])
		}
		assertMirrors(t, c, master)
	}
	if h := holders(t, master); len(h) != 1 || h[tags["Shared"]] == "" {
		t.Errorf("holders %v, want Shared created by one of the branches", h)
	}
}

// TestMatchFullAndRebuild: a full file and --rebuild of one branch leave
// the rows another branch shares with it, and that branch's references
// to them, in place.
func TestMatchFullAndRebuild(t *testing.T) {
	master := newUniqueSide(t, "match")
	nyc, bos := newUniqueChild(t, "nyc", "match"), newUniqueChild(t, "bos", "match")
	for _, c := range []*child{nyc, bos} {
		dbtest.Exec(t, c.db, `INSERT INTO tag (id, name) VALUES (1, 'Volunteer'), (2, 'Donor')`,
			`INSERT INTO contact (id, display_name) VALUES (1, 'Ann')`,
			`INSERT INTO contact_tag (contact_id, tag_id) VALUES (1, 1), (1, 2)`)
		importFiles(t, master, Options{}, c.export(t, true))
	}
	shared := masterTags(t, master)

	res := importFiles(t, master, Options{Rebuild: true}, nyc.export(t, true))
	if tc := tableStats(res[0], "tag"); tc.Matched != 2 || tc.Deleted != 0 || tc.Inserted != 0 {
		t.Errorf("nyc --rebuild: tag %+v, want both tags matched again, none deleted or inserted", tc)
	}
	if tags := masterTags(t, master); len(tags) != 2 || tags["Volunteer"] != shared["Volunteer"] {
		t.Errorf("master tags %v after nyc's --rebuild, want the same two rows %v", tags, shared)
	}
	if h := holders(t, master); h[shared["Volunteer"]] != "bos" {
		t.Errorf("holders %v: nyc's --rebuild should have handed its rows over to bos", h)
	}
	if n := count(t, master, "SELECT COUNT(*) FROM contact_tag"); n != 4 {
		t.Errorf("%d contact_tags, want both branches' 2", n)
	}

	// A full file without Donor: nyc lets go of it; bos keeps it.
	dbtest.Exec(t, nyc.db, `DELETE FROM tag WHERE id = 2`)
	importFiles(t, master, Options{}, nyc.exportFull(t)...)
	if tags := masterTags(t, master); len(tags) != 2 {
		t.Errorf("master tags %v, want both still (bos holds Donor)", tags)
	}
	if n := count(t, master, "SELECT COUNT(*) FROM contact_tag"); n != 3 {
		t.Errorf("%d contact_tags, want bos's 2 and nyc's Volunteer", n)
	}
	assertMirrors(t, nyc, master)
	assertMirrors(t, bos, master)
}

// exportFull writes a full file.
func (c *child) exportFull(t *testing.T) []string { return []string{c.export(t, true)} }

// TestMatchedOwnerKeepsEachBranchsSet: contacts matched by a unique
// display name own emails; a branch's file with the shared contact and
// its set of emails replaces that branch's emails only, and deleting the
// contact on one branch takes only that branch's emails.
func TestMatchedOwnerKeepsEachBranchsSet(t *testing.T) {
	text := strings.Replace(testschema.Map, "    exclude: [api_key]\n", "    exclude: [api_key]\n    unique: { display_name: match }\n", 1)
	newSide := func() *side {
		db, _ := dbtest.NewDatabase(t)
		dbtest.Exec(t, db, testschema.Statements...)
		dbtest.Exec(t, db, `ALTER TABLE contact ADD UNIQUE KEY UI_display_name (display_name)`)
		return newSideWithMap(t, db, text)
	}
	master := newSide()
	var nyc, bos *child
	for _, p := range []string{"nyc", "bos"} {
		dir := t.TempDir()
		c := &child{side: newSide(), prefix: p, dir: dir, state: dir + "/.state"}
		dbtest.Exec(t, c.db, `INSERT INTO contact (id, display_name) VALUES (1, 'Ann')`,
			`INSERT INTO email (id, contact_id, email) VALUES (1, 1, 'ann@`+p+`.example')`)
		importFiles(t, master, Options{}, c.export(t, true))
		if p == "nyc" {
			nyc = c
		} else {
			bos = c
		}
	}
	emails := func() string {
		var got []string
		if err := master.db.Select(&got, "SELECT email FROM email"); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return strings.Join(got, " ")
	}
	if n := count(t, master, "SELECT COUNT(*) FROM contact"); n != 1 || emails() != "ann@bos.example ann@nyc.example" {
		t.Fatalf("%d contacts, emails %q: want one shared Ann with both branches' emails", n, emails())
	}
	changeAndSync(t, bos, master, `UPDATE email SET email = 'ann2@bos.example' WHERE id = 1`,
		`UPDATE contact SET modified_date = NOW(6) WHERE id = 1`)
	if got := emails(); got != "ann2@bos.example ann@nyc.example" {
		t.Errorf("emails %q after bos changed its own: nyc's must stay", got)
	}
	changeAndSync(t, nyc, master, `DELETE FROM contact WHERE id = 1`)
	if n := count(t, master, "SELECT COUNT(*) FROM contact"); n != 1 || emails() != "ann2@bos.example" {
		t.Errorf("%d contacts, emails %q after nyc deleted Ann: bos's Ann and email stay, nyc's email goes", n, emails())
	}
	// Ann was handed over to bos: its next change is written.
	changeAndSync(t, bos, master, `UPDATE contact SET modified_date = NOW(6) WHERE id = 1`)
	assertMirrors(t, bos, master)
}
