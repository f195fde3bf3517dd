package importer

import (
	"testing"

	"tributary/internal/dbtest"
	"tributary/mapping"
)

// seedBasic fills a child with a few rows touching every feature.
func seedBasic(t *testing.T, c *child) {
	dbtest.Exec(t, c.db,
		`INSERT INTO tag (id, name, parent_id) VALUES (1, 'root', NULL), (2, 'leaf', 1)`,
		`INSERT INTO contact (id, display_name, employer_id, amount, big, birth_date, created, photo, api_key) VALUES
			(1, 'Ann', NULL, '12345678.1234', 18446744073709551615, '0000-00-00', '0000-00-00 00:00:00', x'00ff10', 'secret'),
			(2, 'Bob', NULL, NULL, NULL, '1999-12-31', NULL, NULL, NULL),
			(3, 'Acme staff', NULL, '-0.0001', 9007199254740993, NULL, '2020-02-29 12:00:00', '', NULL)`,
		`UPDATE contact SET employer_id = 2 WHERE id = 1`,
		`UPDATE contact SET employer_id = 3 WHERE id = 2`,
		`INSERT INTO org (id, name, primary_contact_id) VALUES (1, 'Acme', 3)`,
		`UPDATE contact SET org_id = 1 WHERE id IN (2, 3)`,
		`INSERT INTO email (id, contact_id, location_type_id, email, is_primary) VALUES (1, 1, 1, 'ann@example.org', 1), (2, 1, 2, 'ann@work.example', 0), (3, 2, NULL, NULL, 1)`,
		`INSERT INTO contact_tag (contact_id, tag_id, added) VALUES (1, 1, NULL), (1, 2, '2021-01-01 00:00:00'), (3, 2, NULL)`,
		`INSERT INTO note (id, entity_table, entity_id, body) VALUES (1, 'contact', 1, 'hello'), (2, 'note', 3, 'reply to a later note'), (3, 'org', 1, 'about acme'), (4, 'note', 4, 'about itself')`,
		`INSERT INTO relationship (id, contact_a, contact_b, kind) VALUES (1, 1, 2, 'sibling')`,
		`INSERT INTO activity (id, subject, source_contact_id, location_type_id) VALUES (1, 'call', 2, 1), (2, 'meeting', NULL, NULL)`,
	)
}

func TestSmokeFullImport(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedBasic(t, c)
	// The master's IDs must differ from the child's to prove the rewriting.
	dbtest.Exec(t, master.db, `ALTER TABLE contact AUTO_INCREMENT = 1000`, `ALTER TABLE note AUTO_INCREMENT = 500`, `ALTER TABLE tag AUTO_INCREMENT = 70`)
	file := c.export(t, true)
	res := importFiles(t, master, Options{}, file)
	if len(res) != 1 || res[0].Inserted == 0 {
		t.Fatalf("results: %+v", res)
	}
	assertMirrors(t, c, master)
	assertNoStrays(t, master, "nyc")

	// Replaying the file changes nothing.
	before := dbtest.Checksums(t, master.db)
	res = importFiles(t, master, Options{}, file)
	if !res[0].Skipped {
		t.Errorf("replay not skipped: %+v", res[0])
	}
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
}
