package importer

import (
	"context"
	"slices"
	"testing"

	"tributary/internal/dbtest"
	"tributary/mapping"
)

// TestDryRunLeavesMasterByteIdentical: a dry run does all the work (its
// counts are those of the real import that follows) and leaves every
// table, mapping and ledger included, byte-identical; a prefix never seen
// gets no tables.
func TestDryRunLeavesMasterByteIdentical(t *testing.T) {
	ctx := context.Background()
	master := newSide(t)
	nyc, sf := newChild(t, "nyc"), newChild(t, "sf")
	seed(t, nyc)
	seed(t, sf)
	importFiles(t, master, Options{}, nyc.export(t, true))
	for _, stmt := range []string{
		`UPDATE contact SET display_name = 'Ann B', modified_date = NOW(6) WHERE id = 1`,
		`DELETE FROM contact WHERE id = 3`,
		`INSERT INTO contact (id, display_name, modified_date) VALUES (4, 'Dee', NOW(6))`,
		`INSERT INTO email (contact_id, email) VALUES (4, 'd@example.org')`,
	} {
		if _, err := nyc.db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	// A full file carries the update, the delete and the insert at once;
	// the incremental file after it builds on it, so a dry run skips it.
	nycFiles := []string{nyc.export(t, true), nyc.export(t, false)}
	sfFile := sf.export(t, true)
	files := append(append([]string(nil), nycFiles...), sfFile)

	before := dbtest.Checksums(t, master.db)
	dry, err := Run(ctx, master.db.DB, master.s, files, Options{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	after := dbtest.Checksums(t, master.db)
	if !slices.Equal(keys(before), keys(after)) {
		t.Errorf("tables before %v, after %v", keys(before), keys(after))
	}
	dbtest.AssertSameTables(t, before, after, mapping.NoticesTable)

	var nycDry, sfDry *Result
	for i := range dry {
		r := &dry[i]
		switch {
		case r.Prefix == "sf":
			sfDry = r
		case r.Prefix == "nyc" && !r.NotTried && nycDry == nil:
			nycDry = r
		case r.Prefix == "nyc" && !r.NotTried:
			t.Errorf("%s tried after a file that would change the master", r.Path)
		}
	}
	if !dry[1].NotTried {
		t.Errorf("%s: want not tried", dry[1].Path)
	}
	if nycDry == nil || sfDry == nil || nycDry.Inserted == 0 || nycDry.Updated == 0 || nycDry.Deleted == 0 || sfDry.Inserted == 0 {
		t.Fatalf("dry-run counts: nyc %+v, sf %+v", nycDry, sfDry)
	}

	// The real import of the same files does what the dry run said.
	real := importFiles(t, master, Options{}, nycDry.Path, sfFile)
	for i, want := range []*Result{nycDry, sfDry} {
		got := real[i]
		if got.Inserted != want.Inserted || got.Updated != want.Updated || got.Deleted != want.Deleted || !slices.Equal(got.Tables, want.Tables) {
			t.Errorf("%s: real %d/%d/%d %v, dry run said %d/%d/%d %v", got.Path, got.Inserted, got.Updated, got.Deleted, got.Tables,
				want.Inserted, want.Updated, want.Deleted, want.Tables)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
