package importer

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"tributary/mapping"
	"tributary/testdata/civicrm"
	"tributary/testdata/civicrm/civitest"
)

// newCiviSide creates a database with the CiviCRM test schema and resolves
// the civicrm preset on it.
func newCiviSide(t *testing.T) *side {
	t.Helper()
	db, _ := civitest.NewDatabase(t, civicrm.Generation5, civicrm.GenerateOptions{})
	return &side{db: db, s: civitest.Preset(t, db)}
}

func dbNow(t *testing.T, s *side) time.Time {
	t.Helper()
	var now string
	if err := s.db.Get(&now, "SELECT UTC_TIMESTAMP(6)"); err != nil {
		t.Fatal(err)
	}
	tm, err := time.Parse("2006-01-02 15:04:05.999999", now)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestCiviCRMRoundTrip runs the civicrm preset end to end: two branches
// generated with overlapping IDs, a full import each, then rounds of
// CiviCRM-like changes (Mutate) through incremental files, and a full
// file at the end.
func TestCiviCRMRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("long scenario")
	}
	ctx := context.Background()
	master := newCiviSide(t)
	// Branches name their groups, tags and searches alike and number their
	// external identifiers from 1. The master keeps every CiviCRM unique
	// key: the preset's policies match tags and rename the rest.
	var children []*child
	for i, prefix := range []string{"nyc", "bos"} {
		side := newCiviSide(t)
		if _, err := civicrm.Generate(ctx, side.db.DB, civicrm.GenerateOptions{Contacts: 150, Seed: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		c := &child{side: side, prefix: prefix, dir: dir, state: filepath.Join(dir, ".state")}
		children = append(children, c)
		importFiles(t, master, Options{}, c.export(t, true))
	}
	for _, c := range children {
		assertMirrors(t, c, master)
	}
	for round := 1; round <= 3 && !t.Failed(); round++ {
		var files []string
		for i, c := range children {
			if _, err := civicrm.Mutate(ctx, c.db.DB, civicrm.MutateOptions{Fraction: 0.2, Seed: int64(10*round + i)}); err != nil {
				t.Fatal(err)
			}
			files = append(files, c.exportCovering(t, dbNow(t, c.side))...)
			if round == 3 {
				files = append(files, c.export(t, true))
			}
		}
		importFiles(t, master, Options{}, files...)
		for _, c := range children {
			assertMirrors(t, c, master)
		}
		assertNoStrays(t, master, "nyc", "bos")
	}
	assertCiviKeysShared(t, master)
}

// assertCiviKeysShared: the master has each of its CiviCRM unique keys,
// one row per tag name both branches use, and each branch's groups under
// their own renamed titles.
func assertCiviKeysShared(t *testing.T, master *side) {
	t.Helper()
	var keys int
	if err := master.db.Get(&keys, `SELECT COUNT(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 AND (TABLE_NAME, INDEX_NAME) IN
		(('civicrm_contact', 'UI_external_identifier'), ('civicrm_group', 'UI_name'), ('civicrm_group', 'UI_title'), ('civicrm_tag', 'UI_name'), ('civicrm_saved_search', 'UI_name'))`); err != nil {
		t.Fatal(err)
	}
	if keys != 5 {
		t.Errorf("the master has %d of CiviCRM's 5 unique keys on names", keys)
	}
	var shared, groups int
	if err := master.db.Get(&shared, "SELECT COUNT(*) FROM "+mapping.HoldersTable+" WHERE entity_table = 'civicrm_tag'"); err != nil {
		t.Fatal(err)
	}
	if err := master.db.Get(&groups, "SELECT COUNT(*) FROM civicrm_group WHERE title LIKE '% (nyc)' OR title LIKE '% (bos)'"); err != nil {
		t.Fatal(err)
	}
	if shared == 0 || groups == 0 {
		t.Errorf("%d shared tags, %d renamed groups: the branches' tags and groups should meet on the master", shared, groups)
	}
}
