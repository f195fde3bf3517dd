package export

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"tributary/internal/database"
	"tributary/schema"
	"tributary/syncfile"
	"tributary/testdata/civicrm"
	"tributary/testdata/civicrm/civitest"
)

// On generated CiviCRM data changed the way branch users change it, an
// incremental file is closed under references (every reference points at
// a row of this file or of the full file before it, or at a shared table)
// and every owner row in it comes with its complete owned set.
func TestCiviCRMIncrementalIsClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("generates CiviCRM data")
	}
	db, cfg := civitest.NewDatabase(t, civicrm.Generation5, civicrm.GenerateOptions{Contacts: 600, Seed: 7})
	ctx := context.Background()
	s := civitest.Preset(t, db)
	f := &fixture{t: t, db: db, cfg: cfg, s: s, out: t.TempDir()}
	_, full := f.export("")
	// Two rounds of changes; the window ends between them, so rows the
	// first round references and the second touches again are after it.
	if _, err := civicrm.Mutate(ctx, db.DB, civicrm.MutateOptions{Fraction: 0.2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	var between string
	if err := db.QueryRow("SELECT UTC_TIMESTAMP(6) + INTERVAL 1 SECOND").Scan(&between); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := civicrm.Mutate(ctx, db.DB, civicrm.MutateOptions{Fraction: 0.2, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	_, incr := f.export(between)
	if n := len(incr.ids("civicrm_contact")); n == 0 {
		t.Fatal("the incremental file has no contact: the mutation was not seen")
	}
	checkReferences(t, s, incr, full)
	checkOwnedSets(t, db.DB, s, incr)
}

// checkReferences resolves every reference of every row in file against
// the rows of file and of earlier.
func checkReferences(t *testing.T, s *schema.Schema, incr, earlier *file) {
	t.Helper()
	sent := upserted(incr, earlier)
	checked := 0
	for _, r := range incr.Records {
		if r.Op != syncfile.OpUpsert {
			continue
		}
		table, _ := s.Table(r.Table)
		for _, ref := range table.Refs {
			v := gjsonGet(r.Row, ref.Column)
			if ref.Shared || v == nil {
				continue
			}
			target := ref.Table
			if ref.Polymorphic() {
				target = gjsonString(r.Row, ref.TableFrom)
				if s.IsShared(target) {
					continue
				}
			}
			if _, synced := s.Table(target); !synced {
				t.Errorf("%s %d: %s names %s, which is not synced: the row should have been left out", r.Table, r.ID, ref.Column, target)
				continue
			}
			checked++
			if !sent[target][*v] {
				t.Errorf("%s %d: %s references %s %d, in neither file", r.Table, r.ID, ref.Column, target, *v)
			}
		}
	}
	if checked == 0 {
		t.Error("no reference was checked")
	}
}

// upserted maps table -> IDs upserted in any of the files.
func upserted(files ...*file) map[string]map[int64]bool {
	sets := map[string]map[int64]bool{}
	for _, f := range files {
		for _, r := range f.Records {
			if r.Op == syncfile.OpUpsert && r.HasID {
				if sets[r.Table] == nil {
					sets[r.Table] = map[int64]bool{}
				}
				sets[r.Table][r.ID] = true
			}
		}
	}
	return sets
}

// checkOwnedSets compares each owner's owned rows in the file with the
// database's (nothing changed since the export).
func checkOwnedSets(t *testing.T, db *sql.DB, s *schema.Schema, incr *file) {
	t.Helper()
	for _, o := range s.Tables {
		ref := o.Ref(o.Owner)
		if o.Role != schema.RoleOwner || !o.Mapped || ref.Polymorphic() {
			continue
		}
		owner, _ := s.Table(ref.Table)
		if isWhole(s, o, 0) {
			continue
		}
		inFile := map[int64]bool{}
		for _, id := range incr.ids(o.Name) {
			inFile[id] = true
		}
		owners := incr.ids(owner.Name)
		for _, batch := range batches(owners) {
			rows, err := db.Query("SELECT " + database.QuoteIdent(o.Key[0]) + " FROM " + database.QuoteIdent(o.Name) + whereIn(o.Owner, batch))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				if !inFile[id] {
					t.Errorf("%s %d belongs to a %s in the file but is not in it", o.Name, id, owner.Name)
				}
			}
			rows.Close()
		}
	}
}

func gjsonGet(row, field string) *int64 {
	v := gjsonResult(row, field)
	if !v.Exists() || v.Type == 0 { // missing or null
		return nil
	}
	n := v.Int()
	return &n
}

func gjsonString(row, field string) string { return gjsonResult(row, field).String() }
