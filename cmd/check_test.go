package cmd

import (
	"regexp"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/testdata/civicrm"
	"tributary/testdata/civicrm/civitest"
)

// civiGeneration makes a database with one generation of the CiviCRM test
// schema (and generated rows when contacts > 0), and returns its DSN.
func civiGeneration(t *testing.T, generation string, contacts int, seed int64) (*sqlx.DB, string) {
	t.Helper()
	db, cfg := civitest.NewDatabase(t, generation, civicrm.GenerateOptions{Contacts: contacts, Seed: seed})
	return db, dbtest.DSN(cfg)
}

// roleRE reads a table's role off check's table of tables.
var roleRE = regexp.MustCompile(`(?m)^\d+\s+(civicrm_\w+)\s+(track \w+|owner \w+|snapshot)\s`)

func rolesOf(out string) map[string]string {
	roles := map[string]string{}
	for _, m := range roleRE.FindAllStringSubmatch(out, -1) {
		roles[m[1]] = m[2]
	}
	return roles
}

// TestCheckCiviCRMGenerations: the one civicrm preset fits every
// generation of CiviCRM's schema, names the release, and chooses each
// table's role from the stamps that release has.
func TestCheckCiviCRMGenerations(t *testing.T) {
	const track, whole = "track modified_date", "snapshot"
	tests := []struct {
		generation, columns                      string
		note, relationship, activity, savedQuery string
	}{
		{civicrm.Generation46, "4.3 or later, before 4.7.25", whole, whole, whole, whole},
		{civicrm.Generation519, "4.7.25 or later, before 5.24", whole, whole, track, whole},
		{civicrm.Generation524, "5.24 or later, before 5.31", track, whole, track, whole},
		{civicrm.Generation547, "5.47 or later, before 5.67", track, track, track, whole},
		{civicrm.Generation5, "5.68 or later", track, track, track, whole},
	}
	t.Setenv("TRIBUTARY_MASTER_DSN", "") // a master named in the environment is checked too
	for _, tt := range tests {
		t.Run(tt.generation, func(t *testing.T) {
			_, dsn := civiGeneration(t, tt.generation, 0, 0)
			out, stderr, code := execute(t, "check", "--dsn", dsn, "--map", "civicrm")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			release := "release: CiviCRM " + civicrm.Releases[tt.generation] + " (civicrm_domain.version; its columns are those of " + tt.columns + ")\n"
			if !strings.Contains(out, release) || strings.Contains(out, "warning:") {
				t.Errorf("output lacks %q (or warns):\n%s", release, out)
			}
			roles := rolesOf(out)
			want := map[string]string{"civicrm_contact": track, "civicrm_note": tt.note, "civicrm_relationship": tt.relationship,
				"civicrm_activity": tt.activity, "civicrm_saved_search": tt.savedQuery, "civicrm_email": "owner contact_id", "civicrm_group": whole}
			for table, role := range want {
				if roles[table] != role {
					t.Errorf("%s: role %q, want %q", table, roles[table], role)
				}
			}
			// memberships and groups are sent when their digests change
			for _, line := range []string{`civicrm_group_contact\s+owner contact_id \(checksum\)`, `civicrm_group\s+snapshot \(checksum\)`} {
				if !regexp.MustCompile(line).MatchString(out) {
					t.Errorf("output lacks %q:\n%s", line, out)
				}
			}
			if len(roles) != 17 {
				t.Errorf("%d tables in the output, want 17:\n%s", len(roles), out)
			}
			if tt.note == whole && !strings.Contains(out, "civicrm_note: modified_date is a DATE in this release") {
				t.Errorf("output does not say why notes are sent whole:\n%s", out)
			}
		})
	}
}

// TestCheckCiviCRMReleaseWarnings: a version the columns contradict is a
// warning; a release before the preset's first is a problem; the old
// preset name still works.
func TestCheckCiviCRMReleaseWarnings(t *testing.T) {
	t.Setenv("TRIBUTARY_MASTER_DSN", "")
	db, dsn := civiGeneration(t, civicrm.Generation46, 0, 0)
	out, stderr, code := execute(t, "check", "--dsn", dsn, "--map", "civicrm-4.6")
	if code != 0 || !strings.Contains(out, "map preset civicrm fits") {
		t.Errorf("civicrm-4.6: exit %d: %s%s", code, out, stderr)
	}

	dbtest.Exec(t, db, "UPDATE civicrm_domain SET version = '5.50.0'")
	out, stderr, code = execute(t, "check", "--dsn", dsn, "--map", "civicrm")
	want := "warning: civicrm_domain.version says 5.50.0, but its columns are those of 4.3 or later, before 4.7.25: an upgrade that did not finish"
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d, output lacks %q:\n%s%s", code, want, out, stderr)
	}

	dbtest.Exec(t, db, "UPDATE civicrm_domain SET version = '4.2.6'")
	_, stderr, code = execute(t, "check", "--dsn", dsn, "--map", "civicrm")
	want = "the database holds CiviCRM 4.2.6 (civicrm_domain.version; its columns are those of 4.3 or later, before 4.7.25); map preset civicrm fits CiviCRM 4.4 and later"
	if code != exitcode.Usage || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
	}
}

// TestCheckMaster: a master of the same release, prepared as README says,
// takes the child's files; every unique key two children could collide on
// is a problem with its fix, and so is a shared table that differs.
func TestCheckMaster(t *testing.T) {
	_, childDSN := civiGeneration(t, civicrm.Generation5, 10, 1)
	master, masterDSN := civiGeneration(t, civicrm.Generation5, 0, 0)

	// A fresh CiviCRM master keeps its unique keys on names: the preset
	// gives each a policy.
	out, stderr, code := execute(t, "check", "--dsn", childDSN, "--map", "civicrm", "--master-dsn", masterDSN)
	if code != 0 || !strings.Contains(out, "the master can take this child's files") {
		t.Fatalf("fresh master: exit %d:\n%s%s", code, out, stderr)
	}
	// Keys made of references to synced tables keep branches apart; a key
	// on a value two branches may share needs a policy.
	dbtest.Exec(t, master, "ALTER TABLE civicrm_contact ADD UNIQUE KEY UI_display_name (display_name)")
	_, stderr, code = execute(t, "check", "--dsn", childDSN, "--map", "civicrm", "--master-dsn", masterDSN)
	want := "civicrm_contact: unique key UI_display_name (display_name) on the master: two branches, or a branch and the master's own rows, may hold the same value, and the file that brings it second is rejected. Give the key a policy in the map under civicrm_contact: `unique: {display_name: match}`"
	if code != exitcode.Usage || !strings.Contains(stderr, want) || !strings.Contains(stderr, "(1 problems)") {
		t.Fatalf("exit %d, want 2 and %q:\n%s", code, want, stderr)
	}
	for _, safe := range []string{"UI_contact_group", "UI_activity_contact", "UI_entity_id_entity_table_tag_id", "UI_group_organization"} {
		if strings.Contains(stderr, safe) {
			t.Errorf("%s is listed, but its values hold master IDs of one branch:\n%s", safe, stderr)
		}
	}
	dbtest.Exec(t, master, "ALTER TABLE civicrm_contact DROP KEY UI_display_name")

	// The master's location types differ from the branch's: one renamed,
	// one missing, one the branch does not have.
	dbtest.Exec(t, master,
		"UPDATE civicrm_location_type SET name = 'Office', display_name = 'Office' WHERE id = 2",
		"DELETE FROM civicrm_location_type WHERE id = 5",
		"INSERT INTO civicrm_location_type (id, name, display_name) VALUES (9, 'Mailing', 'Mailing')")
	out, stderr, code = execute(t, "check", "--dsn", childDSN, "--map", "civicrm", "--master-dsn", masterDSN)
	want = "civicrm_location_type: shared table differs: 1 rows of this child are not on the master: id=5; 1 rows differ: id=2 (name, display_name)."
	if code != exitcode.Usage || !strings.Contains(stderr, want) || !strings.Contains(stderr, "(1 problems)") {
		t.Errorf("exit %d, want 2 and %q:\n%s", code, want, stderr)
	}
	if !strings.Contains(out, "note: civicrm_location_type: 1 rows only on the master (harmless to this child)") {
		t.Errorf("output does not note the master's own row:\n%s", out)
	}
}

// TestCheckMasterOfAnotherRelease: a master whose release chooses other
// roles would reject every file of the branch; check says so before the
// first one, with the columns the master requires and the branch lacks.
func TestCheckMasterOfAnotherRelease(t *testing.T) {
	_, childDSN := civiGeneration(t, civicrm.Generation524, 0, 0)
	_, masterDSN := civiGeneration(t, civicrm.Generation5, 0, 0)
	_, stderr, code := execute(t, "check", "--dsn", childDSN, "--map", "civicrm", "--master-dsn", masterDSN)
	for _, want := range []string{
		"civicrm_relationship: snapshot (no modified_date in this release) here but track modified_date on the master: the master would reject every file",
		"civicrm_tag.label: NOT NULL without a default on the master, and this child does not send it",
		"civicrm_note.privacy: varchar(255) utf8mb3 NULL here, varchar(255) utf8mb4 NOT NULL on the master: a NULL would be rejected there",
	} {
		if code != exitcode.Usage || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, problems lack %q:\n%s", code, want, stderr)
		}
	}
}

// TestCheckAdvisesTrackIndexes: check names the track tables no index
// helps, with the statement that adds one, and stops naming a table once
// it has one (CiviCRM indexes civicrm_contact.modified_date itself).
func TestCheckAdvisesTrackIndexes(t *testing.T) {
	t.Setenv("TRIBUTARY_MASTER_DSN", "")
	db, dsn := civiGeneration(t, civicrm.Generation5, 0, 0)
	advice := func() string {
		t.Helper()
		out, stderr, code := execute(t, "check", "--dsn", dsn, "--map", "civicrm")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		_, after, _ := strings.Cut(out, "no index starts with the track column")
		return after
	}
	got := advice()
	for _, table := range []string{"civicrm_activity", "civicrm_note", "civicrm_relationship"} {
		want := "  " + table + " (about "
		if !strings.Contains(got, want) || !strings.Contains(got, "CREATE INDEX `tributary_modified_date` ON `"+table+"` (`modified_date`);") {
			t.Errorf("advice lacks %s:\n%s", table, got)
		}
	}
	if strings.Contains(got, "civicrm_contact") {
		t.Errorf("advice names civicrm_contact, which has index_modified_date:\n%s", got)
	}
	dbtest.Exec(t, db, "CREATE INDEX `tributary_modified_date` ON `civicrm_activity` (`modified_date`)")
	if got := advice(); strings.Contains(got, "civicrm_activity") || !strings.Contains(got, "civicrm_note") {
		t.Errorf("after indexing civicrm_activity the advice is:\n%s", got)
	}
}
