package importer

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"tributary/importer/internal/testschema"
	"tributary/internal/dbtest"
	"tributary/mapping"
)

// mutator makes random inserts, updates and deletes on a child, as an
// application would: every row it touches gets modified_date = stamp; rows
// the child's foreign keys change (ON DELETE SET NULL / CASCADE) are left
// with their old modified_date, as MySQL leaves them.
type mutator struct {
	t     *testing.T
	c     *child
	rng   *rand.Rand
	stamp string
	// stampless: the child's map has detect: checksum, and the rounds
	// also change rows without moving any stamp.
	stampless bool
}

func (m *mutator) exec(query string, args ...any) sql.Result {
	m.t.Helper()
	res, err := m.c.db.Exec(query, args...)
	if err != nil {
		m.t.Fatalf("%s: %v", query, err)
	}
	return res
}

func (m *mutator) ids(table string) []int64 {
	m.t.Helper()
	var ids []int64
	if err := m.c.db.Select(&ids, "SELECT id FROM "+table+" ORDER BY id"); err != nil {
		m.t.Fatal(err)
	}
	return ids
}

// pick returns a random element of ids, or nil (as SQL NULL) with
// probability pNull or when ids is empty.
func (m *mutator) pick(ids []int64, pNull float64) any {
	if len(ids) == 0 || m.rng.Float64() < pNull {
		return nil
	}
	return ids[m.rng.IntN(len(ids))]
}

func (m *mutator) text(prefix string) string {
	return fmt.Sprintf("%s %d 'quoted' \\ ünïcødé %d", prefix, m.rng.IntN(1000), m.rng.Int64())
}

func (m *mutator) insertID(query string, args ...any) int64 {
	id, err := m.exec(query, args...).LastInsertId()
	if err != nil {
		m.t.Fatal(err)
	}
	return id
}

func (m *mutator) round(size int) {
	for range size {
		switch m.rng.IntN(14) {
		case 0, 1, 2:
			m.insertContact()
		case 3:
			m.insertOrg()
		case 4:
			m.insertNote()
		case 5:
			m.insertOther()
		case 6, 7:
			m.updateContact()
		case 8:
			m.updateOthers()
		case 9:
			m.deleteContact()
		case 10:
			m.deleteOrg()
		case 11:
			m.deleteOthers()
		case 12:
			m.tags()
		case 13:
			m.contactSets()
		}
		if m.stampless && m.rng.IntN(5) == 0 {
			m.noStamp()
		}
	}
	m.deleteReferencedContact()
}

func (m *mutator) insertContact() {
	contacts, orgs := m.ids("contact"), m.ids("org")
	id := m.insertID(`INSERT INTO contact (display_name, employer_id, org_id, amount, big, birth_date, created, photo, api_key, modified_date)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.text("contact"), m.pick(contacts, 0.5), m.pick(orgs, 0.5),
		fmt.Sprintf("%d.%04d", m.rng.IntN(1_000_000)-500_000, m.rng.IntN(10000)),
		fmt.Sprint(uint64(1)<<63+m.rng.Uint64N(1<<62)), m.date(), m.datetime(), m.bytes(), "secret", m.stamp)
	if m.rng.IntN(3) == 0 { // an employee of itself: a self-reference within one row
		m.exec("UPDATE contact SET employer_id = id WHERE id = ?", id)
	}
	for range m.rng.IntN(3) {
		m.exec("INSERT INTO email (contact_id, location_type_id, email, is_primary) VALUES (?, ?, ?, ?)",
			id, m.pick([]int64{1, 2}, 0.3), m.text("mail"), m.rng.IntN(2))
	}
	for _, tag := range m.sample(m.ids("tag"), 2) {
		m.exec("INSERT INTO contact_tag (contact_id, tag_id, added) VALUES (?, ?, ?)", id, tag, m.datetime())
	}
}

func (m *mutator) sample(ids []int64, k int) []int64 {
	m.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids[:min(k, m.rng.IntN(k+1), len(ids))]
}

func (m *mutator) date() any {
	switch m.rng.IntN(4) {
	case 0:
		return nil
	case 1:
		return "0000-00-00"
	}
	return fmt.Sprintf("19%02d-%02d-%02d", m.rng.IntN(100), 1+m.rng.IntN(12), 1+m.rng.IntN(28))
}

func (m *mutator) datetime() any {
	if m.rng.IntN(4) == 0 {
		return nil
	}
	return fmt.Sprintf("20%02d-%02d-%02d %02d:%02d:%02d", m.rng.IntN(30), 1+m.rng.IntN(12), 1+m.rng.IntN(28), m.rng.IntN(24), m.rng.IntN(60), m.rng.IntN(60))
}

func (m *mutator) bytes() any {
	if m.rng.IntN(3) == 0 {
		return nil
	}
	b := make([]byte, m.rng.IntN(32))
	for i := range b {
		b[i] = byte(m.rng.IntN(256))
	}
	return b
}

func (m *mutator) insertOrg() {
	m.insertID("INSERT INTO org (name, primary_contact_id, modified_date) VALUES (?, ?, ?)", m.text("org"), m.pick(m.ids("contact"), 0.3), m.stamp)
}

// insertNote attaches a note to a contact, an org or a note (itself, too).
func (m *mutator) insertNote() {
	table := []string{"contact", "org", "note"}[m.rng.IntN(3)]
	target := m.pick(m.ids(table), 0)
	if target == nil {
		return
	}
	id := m.insertID("INSERT INTO note (entity_table, entity_id, body, modified_date) VALUES (?, ?, ?, ?)", table, target, m.text("note"), m.stamp)
	if table == "note" && m.rng.IntN(4) == 0 {
		m.exec("UPDATE note SET entity_id = id WHERE id = ?", id)
	}
}

func (m *mutator) insertOther() {
	contacts := m.ids("contact")
	if len(contacts) > 0 {
		m.exec("INSERT INTO relationship (contact_a, contact_b, kind, modified_date) VALUES (?, ?, ?, ?)",
			m.pick(contacts, 0), m.pick(contacts, 0), m.text("rel"), m.stamp)
	}
	m.exec("INSERT INTO activity (subject, source_contact_id, location_type_id, modified_date) VALUES (?, ?, ?, ?)",
		m.text("activity"), m.pick(contacts, 0.3), m.pick([]int64{1, 2}, 0.5), m.stamp)
}

func (m *mutator) updateContact() {
	id := m.pick(m.ids("contact"), 0)
	if id == nil {
		return
	}
	m.exec("UPDATE contact SET display_name = ?, employer_id = ?, org_id = ?, amount = ?, modified_date = ? WHERE id = ?",
		m.text("renamed"), m.pick(m.ids("contact"), 0.4), m.pick(m.ids("org"), 0.4), nil, m.stamp, id)
}

func (m *mutator) updateOthers() {
	if id := m.pick(m.ids("org"), 0); id != nil {
		m.exec("UPDATE org SET name = ?, primary_contact_id = ?, modified_date = ? WHERE id = ?", m.text("org"), m.pick(m.ids("contact"), 0.3), m.stamp, id)
	}
	if id := m.pick(m.ids("note"), 0); id != nil {
		m.exec("UPDATE note SET body = ?, modified_date = ? WHERE id = ?", m.text("edited"), m.stamp, id)
	}
	if id := m.pick(m.ids("activity"), 0); id != nil {
		m.exec("UPDATE activity SET source_contact_id = ?, modified_date = ? WHERE id = ?", m.pick(m.ids("contact"), 0.5), m.stamp, id)
	}
}

// contactSets changes a contact's owned rows: an owner's set travels with
// the owner, so the contact is touched too.
func (m *mutator) contactSets() {
	id := m.pick(m.ids("contact"), 0)
	if id == nil {
		return
	}
	m.exec("DELETE FROM email WHERE contact_id = ? ORDER BY id LIMIT 1", id)
	m.exec("UPDATE email SET email = ? WHERE contact_id = ?", m.text("changed"), id)
	m.exec("INSERT INTO email (contact_id, email) VALUES (?, ?)", id, m.text("new"))
	m.exec("DELETE FROM contact_tag WHERE contact_id = ? ORDER BY tag_id LIMIT 1", id)
	if tag := m.pick(m.ids("tag"), 0); tag != nil {
		m.exec("INSERT IGNORE INTO contact_tag (contact_id, tag_id) VALUES (?, ?)", id, tag)
	}
	m.exec("UPDATE contact SET modified_date = ? WHERE id = ?", m.stamp, id)
}

// noStamp changes rows without moving any stamp, as an application's bulk
// actions do: a contact's tags and emails (owned sets with detect:
// checksum), a tag (a snapshot with detect: checksum), an organisation's
// name (a track table audited by detect: checksum).
func (m *mutator) noStamp() {
	contact := m.pick(m.ids("contact"), 0)
	switch m.rng.IntN(4) {
	case 0:
		if tag := m.pick(m.ids("tag"), 0); contact != nil && tag != nil {
			m.exec("DELETE FROM contact_tag WHERE contact_id = ? ORDER BY tag_id LIMIT 1", contact)
			m.exec("INSERT IGNORE INTO contact_tag (contact_id, tag_id) VALUES (?, ?)", contact, tag)
		}
	case 1:
		if contact != nil {
			m.exec("UPDATE email SET email = ? WHERE contact_id = ? ORDER BY id LIMIT 1", m.text("bulk"), contact)
		}
	case 2:
		if tag := m.pick(m.ids("tag"), 0); tag != nil {
			m.exec("UPDATE tag SET name = ? WHERE id = ?", m.text("renamed"), tag)
		}
	case 3:
		if org := m.pick(m.ids("org"), 0); org != nil {
			m.exec("UPDATE org SET name = ? WHERE id = ?", m.text("org renamed"), org)
		}
	}
}

// checksumMap is the test map with detect: checksum where noStamp changes
// rows.
var checksumMap = strings.NewReplacer(
	"tag: { snapshot: true }", "tag: { snapshot: true, detect: checksum }",
	"org: { track: modified_date }", "org: { track: modified_date, detect: checksum }",
	"email: { owner: contact_id }", "email: { owner: contact_id, detect: checksum }",
	"contact_tag: { owner: contact_id }", "contact_tag: { owner: contact_id, detect: checksum }",
).Replace(testschema.Map)

// deleteNotesOn removes the notes on a row, and the notes on those, as the
// application does (notes have no foreign key).
func (m *mutator) deleteNotesOn(table string, id any) {
	var notes []int64
	if err := m.c.db.Select(&notes, "SELECT id FROM note WHERE entity_table = ? AND entity_id = ? AND NOT (entity_table = 'note' AND entity_id = id)", table, id); err != nil {
		m.t.Fatal(err)
	}
	m.exec("DELETE FROM note WHERE entity_table = ? AND entity_id = ?", table, id)
	for _, n := range notes {
		m.deleteNotesOn("note", n)
	}
}

func (m *mutator) deleteContact() {
	if id := m.pick(m.ids("contact"), 0); id != nil {
		m.deleteNotesOn("contact", id)
		m.exec("DELETE FROM contact WHERE id = ?", id)
	}
}

// deleteReferencedContact deletes a contact that others point at, so that
// every round exercises SET NULL and CASCADE on the child.
func (m *mutator) deleteReferencedContact() {
	var id int64
	err := m.c.db.Get(&id, `SELECT c.id FROM contact c WHERE EXISTS (SELECT 1 FROM contact e WHERE e.employer_id = c.id AND e.id <> c.id)
		OR EXISTS (SELECT 1 FROM relationship r WHERE r.contact_a = c.id) OR EXISTS (SELECT 1 FROM activity a WHERE a.source_contact_id = c.id)
		ORDER BY RAND(?) LIMIT 1`, m.rng.Int64())
	if err == nil {
		m.deleteNotesOn("contact", id)
		m.exec("DELETE FROM contact WHERE id = ?", id)
	}
}

func (m *mutator) deleteOrg() {
	if id := m.pick(m.ids("org"), 0); id != nil {
		m.deleteNotesOn("org", id)
		m.exec("DELETE FROM org WHERE id = ?", id)
	}
}

func (m *mutator) deleteOthers() {
	if id := m.pick(m.ids("note"), 0); id != nil {
		m.deleteNotesOn("note", id)
		m.exec("DELETE FROM note WHERE id = ?", id)
	}
	if id := m.pick(m.ids("relationship"), 0); id != nil {
		m.exec("DELETE FROM relationship WHERE id = ?", id)
	}
	if id := m.pick(m.ids("activity"), 0); id != nil {
		m.exec("DELETE FROM activity WHERE id = ?", id)
	}
}

// tags changes the snapshot table: tags nest (self-reference, SET NULL)
// and contact_tag rows go with a deleted tag (CASCADE on the child,
// without touching the contact).
func (m *mutator) tags() {
	switch m.rng.IntN(3) {
	case 0:
		m.insertID("INSERT INTO tag (name, parent_id) VALUES (?, ?)", m.text("tag"), m.pick(m.ids("tag"), 0.5))
	case 1:
		if id := m.pick(m.ids("tag"), 0); id != nil {
			m.exec("UPDATE tag SET name = ?, parent_id = ? WHERE id = ?", m.text("tag"), m.pick(m.ids("tag"), 0.5), id)
		}
	case 2:
		if id := m.pick(m.ids("tag"), 0); id != nil {
			m.exec("DELETE FROM tag WHERE id = ?", id)
		}
	}
}

// stampFor is the modified_date of the next changes: the last window's
// end, so that they fall into the next window.
func stampFor(c *child) string { return c.until.UTC().Format("2006-01-02 15:04:05.000000") }

// mappingOf reads a prefix's whole mapping table.
func mappingOf(t *testing.T, master *side, prefix string) map[string]int64 {
	t.Helper()
	rows, err := master.db.Query("SELECT entity_table, child_entity_id, master_entity_id FROM " + mustTable(t, prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var table string
		var child, m int64
		if err := rows.Scan(&table, &child, &m); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%s/%d", table, child)] = m
	}
	return out
}

func mustTable(t *testing.T, prefix string) string {
	name, err := mapping.TableName(prefix)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// TestTwoChildrenRandomRounds is the end-to-end proof: two children whose
// IDs overlap go through rounds of random changes; after each round both
// export (incremental files), the master imports every file in one run,
// and then mirrors each child through its mapping table, column by column,
// and holds no row that no child has. One round ends with a full file,
// which must leave the same state and keep the master IDs of survivors.
// The map has detect: checksum on some tables, and the rounds also change
// rows of those without moving any stamp.
func TestTwoChildrenRandomRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("long scenario")
	}
	master := newSide(t)
	dbtest.Exec(t, master.db, `ALTER TABLE contact AUTO_INCREMENT = 5000`, `ALTER TABLE note AUTO_INCREMENT = 300`)
	children := []*child{newChild(t, "east"), newChild(t, "west")}
	master.s = newSideWithMap(t, master.db, checksumMap).s
	for _, c := range children {
		c.s = newSideWithMap(t, c.db, checksumMap).s
	}
	seed := uint64(time.Now().UnixNano())
	if env := os.Getenv("TRIBUTARY_TEST_SEED"); env != "" {
		seed, _ = strconv.ParseUint(env, 10, 64)
	}
	t.Logf("seed %d (set TRIBUTARY_TEST_SEED to repeat a run)", seed)
	muts := make([]*mutator, len(children))
	var files []string
	for i, c := range children {
		seedBasic(t, c)
		muts[i] = &mutator{t: t, c: c, rng: rand.New(rand.NewPCG(seed, uint64(i))), stampless: true}
		files = append(files, c.export(t, true))
	}
	importFiles(t, master, Options{}, files...)
	for _, c := range children {
		assertMirrors(t, c, master)
	}
	for round := 1; round <= 6 && !t.Failed(); round++ {
		files = files[:0]
		for i, c := range children {
			muts[i].stamp = stampFor(c)
			muts[i].round(25)
			files = append(files, c.exportCovering(t, c.until)...)
		}
		before := mappingOf(t, master, "east")
		full := round == 4
		if full {
			files = append(files, children[0].export(t, true))
		}
		// Named in reverse: the import sorts them into (prefix, sequence) order.
		for i, j := 0, len(files)-1; i < j; i, j = i+1, j-1 {
			files[i], files[j] = files[j], files[i]
		}
		importFiles(t, master, Options{}, files...)
		for _, c := range children {
			assertMirrors(t, c, master)
		}
		assertNoStrays(t, master, "east", "west")
		if full {
			assertIDsKept(t, before, mappingOf(t, master, "east"))
		}
		t.Logf("round %d: %d files", round, len(files))
	}
}

// assertIDsKept checks that every child row mapped before and after kept
// its master ID.
func assertIDsKept(t *testing.T, before, after map[string]int64) {
	t.Helper()
	kept := 0
	for key, m := range before {
		if m2, ok := after[key]; ok {
			kept++
			if m2 != m {
				t.Errorf("%s: master ID changed from %d to %d", key, m, m2)
			}
		}
	}
	if kept == 0 {
		t.Error("no row survived to check")
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
