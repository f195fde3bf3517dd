package verify

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"tributary/internal/database"
	"tributary/internal/dbtest"
	"tributary/mapping"
	"tributary/schema"
)

var tables = []string{
	`CREATE TABLE kind (id INT PRIMARY KEY, name VARCHAR(20))`,
	`INSERT INTO kind VALUES (1, 'a'), (2, 'b')`,
	`CREATE TABLE person (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50), boss_id INT NULL, kind_id INT NULL,
		price DECIMAL(10,2), FOREIGN KEY (boss_id) REFERENCES person (id), FOREIGN KEY (kind_id) REFERENCES kind (id))`,
	`CREATE TABLE remark (id INT AUTO_INCREMENT PRIMARY KEY, entity_table VARCHAR(20), entity_id INT, body TEXT)`,
	`CREATE TABLE pair (a INT NOT NULL, b INT NOT NULL, weight INT, PRIMARY KEY (a, b),
		FOREIGN KEY (a) REFERENCES person (id), FOREIGN KEY (b) REFERENCES person (id))`,
}

const testMap = `
shared: [kind]
tables:
  person: { snapshot: true }
  remark:
    snapshot: true
    references:
      entity_id: { table_from: entity_table }
  pair: { owner: a }
`

// fixture is a child and a master that mirror each other: child IDs 1..3
// are master IDs 11..13 (prefix "p").
func fixture(t *testing.T) (child, master *sqlx.DB, s *schema.Schema) {
	t.Helper()
	ctx := context.Background()
	child, _ = dbtest.NewDatabase(t)
	master, _ = dbtest.NewDatabase(t)
	dbtest.Exec(t, child, tables...)
	dbtest.Exec(t, master, tables...)
	dbtest.Exec(t, child,
		`INSERT INTO person VALUES (1, 'Ann', NULL, 1, '1.50'), (2, 'Bob', 1, NULL, NULL), (3, 'Cy', 2, 2, '0.00')`,
		`INSERT INTO remark VALUES (1, 'person', 2, 'x'), (2, 'remark', 1, 'y'), (3, 'kind', 2, 'z'), (4, 'elsewhere', 9, 'left out')`,
		`INSERT INTO pair VALUES (1, 2, 5), (2, 3, NULL)`)
	dbtest.Exec(t, master,
		`INSERT INTO person VALUES (11, 'Ann', NULL, 1, '1.50'), (12, 'Bob', 11, NULL, NULL), (13, 'Cy', 12, 2, '0.00')`,
		`INSERT INTO remark VALUES (21, 'person', 12, 'x'), (22, 'remark', 21, 'y'), (23, 'kind', 2, 'z')`,
		`INSERT INTO pair VALUES (11, 12, 5), (12, 13, NULL)`)
	if _, err := mapping.Ensure(ctx, master, "p"); err != nil {
		t.Fatal(err)
	}
	store, err := mapping.NewStore(master, "p")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for table, pairs := range map[string][]mapping.Pair{
		"person": {{Child: 1, Master: 11}, {Child: 2, Master: 12}, {Child: 3, Master: 13}},
		"remark": {{Child: 1, Master: 21}, {Child: 2, Master: 22}, {Child: 3, Master: 23}},
	} {
		if err := store.Insert(ctx, table, pairs); err != nil {
			t.Fatal(err)
		}
	}
	m, err := schema.ParseMap([]byte(testMap), "test")
	if err != nil {
		t.Fatal(err)
	}
	if s, err = schema.Resolve(ctx, master, m); err != nil {
		t.Fatal(err)
	}
	return child, master, s
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		child  []string
		master []string
		want   []string // Difference.String() of each difference, in order
	}{
		{name: "mirror", want: nil},
		{
			name:   "changed plain column and reference",
			master: []string{`UPDATE person SET name = 'Bobby', boss_id = 13 WHERE id = 12`},
			want:   []string{"person (child ID 2, master ID 12): changed: name, boss_id"},
		},
		{
			name:   "DECIMAL text and NULL compare exactly",
			master: []string{`UPDATE person SET price = '1.5' WHERE id = 11`, `UPDATE person SET price = '0' WHERE id = 12`},
			want:   []string{"person (child ID 2, master ID 12): changed: price"},
		},
		{
			name:   "polymorphic reference through the mapping, shared target verbatim",
			master: []string{`UPDATE remark SET entity_id = 22 WHERE id = 22`, `UPDATE remark SET entity_id = 1 WHERE id = 23`},
			want:   []string{"remark (child ID 2, master ID 22): changed: entity_id", "remark (child ID 3, master ID 23): changed: entity_id"},
		},
		{
			name:   "master row gone",
			master: []string{`DELETE FROM remark WHERE id = 22`},
			want:   []string{"remark (child ID 2, master ID 22): missing"},
		},
		{
			name:  "child row not mapped",
			child: []string{`INSERT INTO remark VALUES (7, 'person', 1, 'new')`},
			want:  []string{"remark (child ID 7, master ID 0): missing"},
		},
		{
			name:  "child row deleted",
			child: []string{`DELETE FROM remark WHERE id = 3`},
			want:  []string{"remark (child ID 3, master ID 23): extra"},
		},
		{
			name:   "composite rows",
			child:  []string{`INSERT INTO pair VALUES (3, 1, 0)`},
			master: []string{`UPDATE pair SET weight = 6 WHERE a = 11`, `INSERT INTO pair VALUES (13, 13, 1)`},
			want: []string{
				"pair (a=1,b=2): changed: weight",
				"pair (a=3,b=1): missing",
				"pair (a=3,b=3): extra",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child, master, s := fixture(t)
			dbtest.Exec(t, child, tt.child...)
			dbtest.Exec(t, master, tt.master...)
			// The plain comparison and the checksum pass (chunks of 2 and
			// of 1000 keys) must find exactly the same differences.
			for _, opts := range []Options{{Chunk: 2}, {Chunk: 2, Checksums: true}, {Checksums: true, Workers: 1}} {
				diffs, err := differences(child.DB, master.DB, s, opts)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, d := range diffs {
					got = append(got, d.String())
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("%+v: differences:\n%s\nwant:\n%s", opts, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}
		})
	}
}

// TestChecksumsDrillOnlyWhereChunksDiffer: with one key per chunk, equal
// data reads no rows, and one changed row reads one chunk.
func TestChecksumsDrillOnlyWhereChunksDiffer(t *testing.T) {
	child, master, s := fixture(t)
	var rec dbtest.Recorder
	childDB := rec.Open(t, childConfig(t, child))
	var progressed int64
	opts := Options{Chunk: 1, Checksums: true, Progress: func(done, total int64) { progressed = done }}
	diffs, err := differences(childDB, master.DB, s, opts)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("equal data: %v %v", diffs, err)
	}
	if n := drilledChunks(rec.Statements()); n != 0 {
		t.Errorf("equal data: %d chunks read row by row, want 0", n)
	}
	if progressed != 6 { // person's 3 rows and remark's 3 (its 4th is left out by export)
		t.Errorf("progress reported %d rows compared, want 6", progressed)
	}
	dbtest.Exec(t, master, `UPDATE person SET name = 'Bobby' WHERE id = 12`)
	diffs, err = differences(childDB, master.DB, s, opts)
	if err != nil || len(diffs) != 1 {
		t.Fatalf("one change: %v %v", diffs, err)
	}
	if n := drilledChunks(rec.Statements()); n != 1 {
		t.Errorf("one changed row: %d chunks read row by row, want 1", n)
	}
}

// differences compares and returns every difference.
func differences(child, master *sql.DB, s *schema.Schema, opts Options) ([]Difference, error) {
	opts.Keep = 0
	r, err := Compare(context.Background(), child, master, s, "p", opts)
	if r == nil {
		return nil, err
	}
	return r.Differences, err
}

// drilledChunks counts the chunks whose child rows were read one by one:
// the distinct upper bounds of the queries that read a chunk's rows in key
// order (lo < key <= hi).
func drilledChunks(statements []dbtest.Statement) int {
	upper := map[any]bool{}
	for _, st := range statements {
		if strings.Contains(st.Query, " > ? AND ") && strings.Contains(st.Query, " <= ? ORDER BY ") && len(st.Args) > 0 {
			upper[st.Args[len(st.Args)-1]] = true
		}
	}
	return len(upper)
}

// childConfig is the driver configuration of the child's database, with
// tributary's session settings.
func childConfig(t *testing.T, child *sqlx.DB) *mysql.Config {
	t.Helper()
	cfg := dbtest.ServerConfig(t).Clone()
	if err := child.Get(&cfg.DBName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	full, err := database.Source{Role: "test", DSN: cfg.FormatDSN()}.Config()
	if err != nil {
		t.Fatal(err)
	}
	return full
}

func TestUnmapped(t *testing.T) {
	_, master, s := fixture(t)
	dbtest.Exec(t, master, `INSERT INTO person VALUES (99, 'nobody', NULL, NULL, NULL)`, `INSERT INTO pair VALUES (99, 11, 0)`)
	diffs, err := Unmapped(context.Background(), master.DB, s, []string{"p"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diffs {
		got = append(got, d.String())
	}
	want := []string{"person (child ID 0, master ID 99): extra", "pair (master a=99,b=11): extra"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
