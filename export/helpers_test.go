package export

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	"github.com/tidwall/gjson"

	"tributary/internal/database"
	"tributary/internal/dbtest"
	"tributary/schema"
	"tributary/syncfile"
)

// The test schema: a small CRM with every role and kind of reference.
// Times in the tests are in 2001, long before the real clock, so an open
// transaction of another test on the same server (innodb_trx is
// server-wide) can never hold back a window the test has set.
var testSchema = []string{
	`CREATE TABLE location_type (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(32))`,
	`CREATE TABLE tag (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(32))`,
	`CREATE TABLE contact (
		id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
		name varchar(64),
		api_key varchar(64),
		employer_id int unsigned NULL,
		modified timestamp(6) NULL DEFAULT NULL,
		CONSTRAINT fk_employer FOREIGN KEY (employer_id) REFERENCES contact (id) ON DELETE SET NULL)`,
	`CREATE TABLE phone (
		id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
		contact_id int unsigned NOT NULL,
		location_type_id int unsigned NULL,
		phone varchar(32),
		CONSTRAINT fk_phone_contact FOREIGN KEY (contact_id) REFERENCES contact (id) ON DELETE CASCADE,
		CONSTRAINT fk_phone_lt FOREIGN KEY (location_type_id) REFERENCES location_type (id))`,
	`CREATE TABLE grp (
		id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
		title varchar(64),
		created_id int unsigned NULL,
		CONSTRAINT fk_grp_created FOREIGN KEY (created_id) REFERENCES contact (id) ON DELETE SET NULL)`,
	`CREATE TABLE group_contact (
		group_id int unsigned NOT NULL,
		contact_id int unsigned NOT NULL,
		status enum('Added','Removed') NOT NULL DEFAULT 'Added',
		PRIMARY KEY (group_id, contact_id),
		CONSTRAINT fk_gc_group FOREIGN KEY (group_id) REFERENCES grp (id) ON DELETE CASCADE,
		CONSTRAINT fk_gc_contact FOREIGN KEY (contact_id) REFERENCES contact (id) ON DELETE CASCADE)`,
	`CREATE TABLE activity (
		id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
		subject varchar(64),
		source_contact_id int unsigned NOT NULL,
		phone_id int unsigned NULL,
		modified datetime NULL,
		CONSTRAINT fk_act_contact FOREIGN KEY (source_contact_id) REFERENCES contact (id) ON DELETE CASCADE,
		CONSTRAINT fk_act_phone FOREIGN KEY (phone_id) REFERENCES phone (id) ON DELETE SET NULL)`,
	`CREATE TABLE note (
		id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
		entity_table varchar(64) NOT NULL,
		entity_id int unsigned NOT NULL,
		note text,
		modified timestamp NULL DEFAULT NULL,
		KEY entity (entity_table, entity_id))`,
	`CREATE TABLE entity_tag (
		id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
		entity_table varchar(64) NOT NULL,
		entity_id int unsigned NOT NULL,
		tag_id int unsigned NOT NULL,
		CONSTRAINT fk_et_tag FOREIGN KEY (tag_id) REFERENCES tag (id))`,
	`CREATE TABLE kase (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, subject varchar(64))`,
	`INSERT INTO location_type (id, name) VALUES (1, 'Home'), (2, 'Work')`,
	`INSERT INTO tag (id, name) VALUES (1, 'Donor'), (2, 'Volunteer')`,
}

const testMap = `
shared: [location_type, tag]
tables:
  contact:       { track: modified, exclude: [api_key] }
  phone:         { owner: contact_id }
  grp:           { snapshot: true }
  group_contact: { owner: contact_id }
  activity:      { track: modified }
  note:
    track: modified
    references:
      entity_id: { table_from: entity_table }
  entity_tag:
    owner: entity_id
    references:
      entity_id: { table_from: entity_table }
`

// fixture is one test's child database with its resolved schema and an
// output directory.
type fixture struct {
	t   *testing.T
	db  *sqlx.DB
	cfg *mysql.Config
	s   *schema.Schema
	out string

	mu       sync.Mutex
	warnings []string
}

func newFixture(t *testing.T, statements []string, mapYAML string) *fixture {
	t.Helper()
	db, cfg := dbtest.NewDatabase(t)
	dbtest.Exec(t, db, statements...)
	return &fixture{t: t, db: db, cfg: cfg, s: resolveMap(t, db, mapYAML), out: t.TempDir()}
}

func resolveMap(t *testing.T, db *sqlx.DB, mapYAML string) *schema.Schema {
	t.Helper()
	m, err := schema.ParseMap([]byte(mapYAML), "test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Resolve(context.Background(), db, m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) exec(statements ...string) {
	f.t.Helper()
	dbtest.Exec(f.t, f.db, statements...)
}

// options are the defaults of a test export: no lag, gzip on.
func (f *fixture) options() Options {
	return Options{
		Prefix: "nyc", OutDir: f.out, Gzip: true, ToolVersion: "test",
		Warn: func(s string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.warnings = append(f.warnings, s)
		},
	}
}

// dbAt opens the child database with its clock at now; "" keeps the
// server's clock.
func (f *fixture) dbAt(now string) *sqlx.DB {
	f.t.Helper()
	if now == "" {
		return f.db
	}
	return atClock(f.t, f.cfg, now)
}

// atClock opens the database of cfg with the clock of every session set
// to now (UTC, "2001-01-01 00:00:10"): the driver runs SET timestamp when
// it connects, and NOW() and UTC_TIMESTAMP() follow it.
func atClock(t *testing.T, cfg *mysql.Config, now string) *sqlx.DB {
	t.Helper()
	ts, err := time.Parse("2006-01-02 15:04:05.999999", now)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Clone()
	c.Params["timestamp"] = strconv.FormatFloat(float64(ts.UnixMicro())/1e6, 'f', 6, 64)
	db, err := database.Open(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// export runs an export at the given database time and reads the file.
func (f *fixture) export(now string, edit ...func(*Options)) (Result, *file) {
	f.t.Helper()
	opts := f.options()
	for _, e := range edit {
		e(&opts)
	}
	res, err := Run(context.Background(), f.dbAt(now), f.s, opts)
	if err != nil {
		f.t.Fatalf("export at %s: %v", now, err)
	}
	return res, readFile(f.t, res.Path)
}

// record is a record as a test looks at it.
type record struct {
	Table, Op string
	ID        int64
	HasID     bool
	Row       string // the row object as written
	Ranges    [][2]int64
}

// file is a sync file read back through syncfile.Reader, which checks
// every line, the count and the checksum.
type file struct {
	Header  syncfile.Header
	Records []record
}

func readFile(t *testing.T, path string) *file {
	t.Helper()
	r, err := syncfile.Open(path, syncfile.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := &file{Header: *r.Header()}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return f
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		f.Records = append(f.Records, record{Table: rec.Table, Op: rec.Op, ID: rec.ID, HasID: rec.HasID, Row: rec.Row.Raw, Ranges: rec.Ranges})
	}
}

// ids lists the upserted IDs of a table, sorted.
func (f *file) ids(table string) []int64 {
	var ids []int64
	for _, r := range f.Records {
		if r.Table == table && r.Op == syncfile.OpUpsert {
			ids = append(ids, r.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// rows lists the row objects of a table's upserts.
func (f *file) rows(table string) []string {
	var rows []string
	for _, r := range f.Records {
		if r.Table == table && r.Op == syncfile.OpUpsert {
			rows = append(rows, r.Row)
		}
	}
	sort.Strings(rows)
	return rows
}

// live lists a table's live ranges, across its live records.
func (f *file) live(table string) [][2]int64 {
	var ranges [][2]int64
	for _, r := range f.Records {
		if r.Table == table && r.Op == syncfile.OpLive {
			ranges = append(ranges, r.Ranges...)
		}
	}
	return ranges
}

func (f *fixture) warned(substr string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

// dirNames lists a directory's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readState(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ".tributary-nyc.state"))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// jsonInt reads an integer field of a row object.
func jsonInt(t *testing.T, row, field string) int64 {
	t.Helper()
	v := gjson.Get(row, field)
	if v.Type != gjson.Number {
		t.Fatalf("%s in %s is not a number", field, row)
	}
	return v.Int()
}

func eqIDs(a []int64, b ...int64) bool { return slices.Equal(a, b) }

func gjsonResult(row, field string) gjson.Result { return gjson.Get(row, field) }
