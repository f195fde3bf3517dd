package importer

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"tributary/export"
	"tributary/internal/compare"
	"tributary/internal/dbtest"
	"tributary/mapping"
	"tributary/schema"
)

// testSchema has what the import must handle: a self-reference
// (contact.employer_id, tag.parent_id), a two-table cycle (contact.org_id
// and org.primary_contact_id), a polymorphic reference (note.entity_id,
// which may point at a note), an owned table (email) and a composite-key
// owned table (contact_tag), ON DELETE SET NULL and CASCADE, a shared
// table, an excluded column, and values that must survive exactly
// (DECIMAL, zero dates, binary, big integers).
var testSchema = []string{
	`CREATE TABLE location_type (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(32) NOT NULL)`,
	`INSERT INTO location_type (id, name) VALUES (1, 'Home'), (2, 'Work')`,
	`CREATE TABLE tag (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		name VARCHAR(128) NOT NULL,
		parent_id INT UNSIGNED NULL,
		CONSTRAINT fk_tag_parent FOREIGN KEY (parent_id) REFERENCES tag (id) ON DELETE SET NULL)`,
	`CREATE TABLE contact (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		display_name VARCHAR(128) NULL,
		employer_id INT UNSIGNED NULL,
		org_id INT UNSIGNED NULL,
		amount DECIMAL(14,4) NULL,
		big BIGINT UNSIGNED NULL,
		birth_date DATE NULL,
		created DATETIME NULL,
		photo VARBINARY(32) NULL,
		api_key VARCHAR(32) NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		CONSTRAINT fk_contact_employer FOREIGN KEY (employer_id) REFERENCES contact (id) ON DELETE SET NULL)`,
	`CREATE TABLE org (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		name VARCHAR(128) NOT NULL,
		primary_contact_id INT UNSIGNED NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		CONSTRAINT fk_org_contact FOREIGN KEY (primary_contact_id) REFERENCES contact (id) ON DELETE SET NULL)`,
	`ALTER TABLE contact ADD CONSTRAINT fk_contact_org FOREIGN KEY (org_id) REFERENCES org (id) ON DELETE SET NULL`,
	`CREATE TABLE email (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		contact_id INT UNSIGNED NOT NULL,
		location_type_id INT UNSIGNED NULL,
		email VARCHAR(255) NULL,
		is_primary TINYINT NOT NULL DEFAULT 0,
		CONSTRAINT fk_email_contact FOREIGN KEY (contact_id) REFERENCES contact (id) ON DELETE CASCADE,
		CONSTRAINT fk_email_location FOREIGN KEY (location_type_id) REFERENCES location_type (id))`,
	`CREATE TABLE contact_tag (
		contact_id INT UNSIGNED NOT NULL,
		tag_id INT UNSIGNED NOT NULL,
		added DATETIME NULL,
		PRIMARY KEY (contact_id, tag_id),
		CONSTRAINT fk_ct_contact FOREIGN KEY (contact_id) REFERENCES contact (id) ON DELETE CASCADE,
		CONSTRAINT fk_ct_tag FOREIGN KEY (tag_id) REFERENCES tag (id) ON DELETE CASCADE)`,
	`CREATE TABLE note (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		entity_table VARCHAR(64) NOT NULL,
		entity_id INT UNSIGNED NOT NULL,
		body TEXT NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		KEY i_entity (entity_table, entity_id))`,
	`CREATE TABLE relationship (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		contact_a INT UNSIGNED NOT NULL,
		contact_b INT UNSIGNED NOT NULL,
		kind VARCHAR(128) NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		CONSTRAINT fk_rel_a FOREIGN KEY (contact_a) REFERENCES contact (id) ON DELETE CASCADE,
		CONSTRAINT fk_rel_b FOREIGN KEY (contact_b) REFERENCES contact (id) ON DELETE CASCADE)`,
	`CREATE TABLE activity (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		subject VARCHAR(128) NULL,
		source_contact_id INT UNSIGNED NULL,
		location_type_id INT UNSIGNED NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		CONSTRAINT fk_act_contact FOREIGN KEY (source_contact_id) REFERENCES contact (id) ON DELETE SET NULL,
		CONSTRAINT fk_act_location FOREIGN KEY (location_type_id) REFERENCES location_type (id))`,
}

const testMap = `
shared: [location_type]
tables:
  tag: { snapshot: true }
  contact:
    track: modified_date
    exclude: [api_key]
  org: { track: modified_date }
  email: { owner: contact_id }
  contact_tag: { owner: contact_id }
  note:
    track: modified_date
    references:
      entity_id: { table_from: entity_table }
  relationship: { track: modified_date }
  activity: { track: modified_date }
`

// side is one database of a test: a child or the master.
type side struct {
	db *sqlx.DB
	s  *schema.Schema
}

// newSide creates a database with the test schema and resolves the map on it.
func newSide(t *testing.T) *side {
	t.Helper()
	db, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, db, testSchema...)
	return newSideOn(t, db)
}

// newSideOn resolves the test map on an existing database.
func newSideOn(t *testing.T, db *sqlx.DB) *side {
	t.Helper()
	m, err := schema.ParseMap([]byte(testMap), "test map")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Resolve(context.Background(), db, m)
	if err != nil {
		t.Fatal(err)
	}
	return &side{db: db, s: s}
}

// child is a child database with its export state.
type child struct {
	*side
	prefix string
	dir    string
	state  string
	until  time.Time // the last export's window end
}

func newChild(t *testing.T, prefix string) *child {
	dir := t.TempDir()
	return &child{side: newSide(t), prefix: prefix, dir: dir, state: filepath.Join(dir, ".state-"+prefix)}
}

// export writes the child's next file (full when asked or when it is the
// first) and returns its path.
func (c *child) export(t *testing.T, full bool) string {
	t.Helper()
	res, err := export.Run(context.Background(), c.db, c.s, export.Options{
		Prefix: c.prefix, OutDir: c.dir, StatePath: c.state, Full: full,
	})
	if err != nil {
		t.Fatalf("export %s: %v", c.prefix, err)
	}
	c.until = res.Until
	return res.Path
}

// exportCovering exports until the window has passed every change made so
// far (the window ends at whole seconds, and an open transaction anywhere
// on the server holds it back), and returns every file written.
func (c *child) exportCovering(t *testing.T, changedAt time.Time) []string {
	t.Helper()
	var files []string
	deadline := time.Now().Add(90 * time.Second)
	for {
		files = append(files, c.export(t, false))
		if c.until.After(changedAt) {
			return files
		}
		if time.Now().After(deadline) {
			t.Fatalf("export of %s never passed %s (last window end %s)", c.prefix, changedAt, c.until)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// importFiles imports files into the master and fails the test on error.
func importFiles(t *testing.T, master *side, opts Options, files ...string) []Result {
	t.Helper()
	res, err := Run(context.Background(), master.db.DB, master.s, files, opts)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

// assertMirrors fails when the master's rows of the child's prefix differ
// from the child's rows.
func assertMirrors(t *testing.T, c *child, master *side) {
	t.Helper()
	diffs, err := compare.Run(context.Background(), c.db.DB, master.db.DB, master.s, c.prefix, compare.Options{})
	if err != nil {
		t.Fatalf("compare %s: %v", c.prefix, err)
	}
	for i, d := range diffs {
		if i == 20 {
			t.Errorf("... %d differences in all", len(diffs))
			break
		}
		t.Errorf("%s: %s", c.prefix, d)
	}
}

// assertNoStrays fails when the master holds rows that no child explains.
func assertNoStrays(t *testing.T, master *side, prefixes ...string) {
	t.Helper()
	diffs, err := compare.Unmapped(context.Background(), master.db.DB, master.s, prefixes, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("stray master row: %s", d)
	}
}

// checksums returns CHECKSUM TABLE of every table of the database, the
// mapping and ledger tables included, for "byte-identical" assertions.
func checksums(t *testing.T, db *sqlx.DB) map[string]string {
	t.Helper()
	var tables []string
	if err := db.Select(&tables, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range tables {
		var table string
		var sum sql.NullString
		if err := db.QueryRow("CHECKSUM TABLE `"+strings.ReplaceAll(name, "`", "``")+"`").Scan(&table, &sum); err != nil {
			t.Fatal(err)
		}
		out[name] = sum.String
	}
	return out
}

func assertUnchanged(t *testing.T, before, after map[string]string) {
	t.Helper()
	var names []string
	for name := range before {
		names = append(names, name)
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		_, existed := before[name]
		switch {
		case name == mapping.NoticesTable:
			// What import told the admin (a stale file, told once), not
			// the master's data.
		case !existed && after[name] == "0":
			// The mapping and ledger tables are created (empty) before the
			// first transaction of a prefix; their data is what counts.
		case before[name] != after[name]:
			t.Errorf("table %s changed (checksum %q -> %q)", name, before[name], after[name])
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
