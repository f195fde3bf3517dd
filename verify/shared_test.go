package verify

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tributary/internal/dbtest"
)

// TestShared: rows of a shared table compared by key and content, on the
// columns both sides have; a table without a primary key by content,
// never naming it.
func TestShared(t *testing.T) {
	child, _ := dbtest.NewDatabase(t)
	master, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, child,
		"CREATE TABLE kind (id INT PRIMARY KEY, name VARCHAR(20), label VARCHAR(20), only_here INT)",
		"INSERT INTO kind VALUES (1, 'a', 'A', 1), (2, 'b', 'B', 2), (3, 'c', NULL, 3), (4, 'd', 'D', 4)",
		"CREATE TABLE code (name VARCHAR(20), value INT)",
		"INSERT INTO code VALUES ('x', 1), ('y', 2)")
	dbtest.Exec(t, master,
		"CREATE TABLE kind (id INT PRIMARY KEY, name VARCHAR(20), label VARCHAR(20))",
		// 1 equal, 2 renamed, 3 a NULL became a value, 4 missing, 5 only here.
		"INSERT INTO kind VALUES (1, 'a', 'A'), (2, 'bb', 'B'), (3, 'c', ''), (5, 'e', 'E')",
		"CREATE TABLE code (name VARCHAR(20), value INT)",
		"INSERT INTO code VALUES ('x', 1), ('y', 3)")
	ctx := context.Background()
	diffs, err := Shared(ctx, child.DB, master.DB, "kind")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diffs {
		got = append(got, fmt.Sprintf("%s %s %s", d.Key, d.Kind, strings.Join(d.Columns, ",")))
	}
	want := "id=2 changed name|id=3 changed label|id=4 missing |id=5 extra "
	if strings.Join(got, "|") != want {
		t.Errorf("kind: %q\nwant  %q", strings.Join(got, "|"), want)
	}

	diffs, err = Shared(ctx, child.DB, master.DB, "code")
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 2 || diffs[0].Kind != Missing || diffs[1].Kind != Extra || diffs[0].Key != "a row (no primary key)" {
		t.Errorf("code: %+v", diffs)
	}

	if _, err := Shared(ctx, child.DB, master.DB, "nosuch"); err == nil || !strings.Contains(err.Error(), "shared table nosuch on the child: table not found") {
		t.Errorf("missing table: %v", err)
	}
}
