package importer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"tributary/export"
	"tributary/importer/internal/testschema"
	"tributary/internal/dbtest"
	"tributary/schema"
	"tributary/verify/verifytest"
)

// side is one database of a test: a child or the master.
type side struct {
	db *sqlx.DB
	s  *schema.Schema
}

// newSide creates a database with the test schema and resolves the map on it.
func newSide(t *testing.T) *side {
	t.Helper()
	db, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, db, testschema.Statements...)
	return newSideOn(t, db)
}

// newSideOn resolves the test map on an existing database.
func newSideOn(t *testing.T, db *sqlx.DB) *side {
	t.Helper()
	return newSideWithMap(t, db, testschema.Map)
}

// newSideWithMap resolves the map text on an existing database.
func newSideWithMap(t *testing.T, db *sqlx.DB, text string) *side {
	t.Helper()
	m, err := schema.ParseMap([]byte(text), "test map")
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
	verifytest.AssertMirrors(t, c.db.DB, master.db.DB, master.s, c.prefix)
}

// assertNoStrays fails when the master holds rows that no child explains.
func assertNoStrays(t *testing.T, master *side, prefixes ...string) {
	t.Helper()
	verifytest.AssertNoStrays(t, master.db.DB, master.s, prefixes...)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
