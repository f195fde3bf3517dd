package cmd

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"tributary/internal/database"
	"tributary/testdata/civicrm"
)

// syncedTables are the tables the civicrm preset syncs.
var syncedTables = []string{
	"civicrm_contact", "civicrm_address", "civicrm_email", "civicrm_phone", "civicrm_im", "civicrm_website",
	"civicrm_note", "civicrm_relationship", "civicrm_activity", "civicrm_activity_contact", "civicrm_saved_search",
	"civicrm_group", "civicrm_group_nesting", "civicrm_group_organization", "civicrm_group_contact",
	"civicrm_tag", "civicrm_entity_tag",
}

// ownRows fingerprints every row of the synced tables, by table and ID:
// the master's own rows, before any branch arrives.
func ownRows(t *testing.T, db *sqlx.DB) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, table := range syncedTables {
		var cols []string
		if err := db.Select(&cols, `SELECT COLUMN_NAME FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, table); err != nil {
			t.Fatal(err)
		}
		var sums []struct {
			ID  int64  `db:"id"`
			Sum string `db:"sum"`
		}
		q := fmt.Sprintf("SELECT id, MD5(CONCAT_WS('|', %s)) AS sum FROM %s", nullSafe(cols), database.QuoteIdent(table))
		if err := db.Select(&sums, q); err != nil {
			t.Fatal(err)
		}
		for _, s := range sums {
			rows[fmt.Sprintf("%s %d", table, s.ID)] = s.Sum
		}
	}
	return rows
}

func nullSafe(cols []string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "COALESCE(" + database.QuoteIdent(c) + ", '\\N')"
	}
	return strings.Join(parts, ", ")
}

// branch is one CiviCRM branch database in a round trip.
type branch struct {
	prefix string
	db     *sqlx.DB
	dsn    string
	out    string
}

func (b *branch) export(t *testing.T, full bool) string {
	t.Helper()
	args := []string{"export", "--dsn", b.dsn, "--prefix", b.prefix, "--map", "civicrm", "--out", b.out, "--lag", "0s"}
	if full {
		args = append(args, "--full")
	}
	stdout, stderr, code := execute(t, args...)
	if code != 0 {
		t.Fatalf("%s: export: exit %d: %s", b.prefix, code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	return lines[len(lines)-1]
}

// TestCiviCRMGenerationsRoundTrip: for each generation of CiviCRM, a
// master that is a CiviCRM of its own (its own contacts, groups and tags)
// and two branches with overlapping IDs: check --master-dsn passes, then
// a full file each, two rounds of branch work through incremental files,
// and a full file again; after every round verify finds nothing, and the
// master's own rows are never touched.
func TestCiviCRMGenerationsRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("long scenario")
	}
	for _, gen := range civicrm.Generations {
		t.Run(gen, func(t *testing.T) {
			ctx := context.Background()
			master, masterDSN := civiGeneration(t, gen, 25, 99)
			own := ownRows(t, master)
			for _, row := range []string{"civicrm_contact 25", "civicrm_group 1", "civicrm_tag 20", "civicrm_email 1"} {
				if own[row] == "" {
					t.Fatalf("the master has no own row %s to watch", row)
				}
			}
			var branches []*branch
			for i, prefix := range []string{"nyc", "bos"} {
				db, dsn := civiGeneration(t, gen, 40+10*i, int64(i+1))
				b := &branch{prefix: prefix, db: db, dsn: dsn, out: t.TempDir()}
				branches = append(branches, b)
				out, stderr, code := execute(t, "check", "--dsn", dsn, "--map", "civicrm", "--master-dsn", masterDSN)
				if code != 0 || !strings.Contains(out, "the master can take this child's files") {
					t.Fatalf("%s: check --master-dsn: exit %d:\n%s%s", prefix, code, out, stderr)
				}
			}
			for round := 0; round <= 3 && !t.Failed(); round++ {
				var files []string
				for i, b := range branches {
					if round > 0 {
						if _, err := civicrm.Mutate(ctx, b.db.DB, civicrm.MutateOptions{Fraction: 0.2, Seed: int64(10*round + i)}); err != nil {
							t.Fatal(err)
						}
						waitNextSecond(t, b.db)
					}
					files = append(files, b.export(t, round == 0 || round == 3))
				}
				if _, stderr, code := execute(t, append([]string{"import", "--dsn", masterDSN, "--map", "civicrm"}, files...)...); code != 0 {
					t.Fatalf("round %d: import: exit %d: %s", round, code, stderr)
				}
				for _, b := range branches {
					out, stderr, code := execute(t, "verify", "--child-dsn", b.dsn, "--master-dsn", masterDSN, "--prefix", b.prefix, "--map", "civicrm")
					if code != 0 {
						t.Errorf("round %d: %s: verify: exit %d:\n%s%s", round, b.prefix, code, out, stderr)
					}
				}
				after := ownRows(t, master)
				for row, sum := range own {
					if after[row] != sum {
						t.Errorf("round %d: the master's own row %s changed or went away", round, row)
					}
				}
			}
		})
	}
}
