package civicrm

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"tributary/internal/database"
	"tributary/internal/dbtest"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []string
		wantErr string
	}{
		{
			name: "comments and blank lines are dropped",
			text: "-- header\n\nCREATE TABLE a (\n  id int -- inline stays\n);\n-- between\nDROP TABLE a;\n",
			want: []string{"CREATE TABLE a (\n  id int -- inline stays\n)", "DROP TABLE a"},
		},
		{
			// A trigger body is one statement on the trigger's line, so the
			// only ';' is the last character.
			name: "single-line trigger",
			text: "CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW UPDATE b SET x = 1 WHERE id = NEW.id;\n",
			want: []string{"CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW UPDATE b SET x = 1 WHERE id = NEW.id"},
		},
		{
			name: "a ';' inside a line does not end the statement",
			text: "INSERT INTO a VALUES ('x; y'),\n  ('z');\n",
			want: []string{"INSERT INTO a VALUES ('x; y'),\n  ('z')"},
		},
		{
			// Trigger bodies hold ';', so the file switches delimiters
			// as a dump read by the mysql client does.
			name: "DELIMITER",
			text: "DELIMITER //\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN\nUPDATE b SET x = 1;\nEND //\nDELIMITER ;\nDROP TABLE a;\n",
			want: []string{"CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN\nUPDATE b SET x = 1;\nEND", "DROP TABLE a"},
		},
		{
			name:    "unterminated statement",
			text:    "CREATE TABLE a (id int)\n",
			wantErr: `without a final ";"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitStatements(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n--\n") != strings.Join(tt.want, "\n--\n") {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// civicrmTriggers is how many triggers CiviCRM creates on the tables of
// the test schema: created_date on contacts, the contact's modified_date
// from addresses, emails, IMs, phones and websites (after insert, update
// and delete), and phone_numeric before a phone is inserted or updated.
const civicrmTriggers = 1 + 5*3 + 2

func TestStatements(t *testing.T) {
	for _, gen := range Generations {
		stmts, err := Statements(gen)
		if err != nil {
			t.Fatal(err)
		}
		var tables, triggers, functions int
		for _, s := range stmts {
			switch {
			case strings.HasPrefix(s, "CREATE TABLE"):
				tables++
			case strings.HasPrefix(s, "CREATE TRIGGER"):
				triggers++
			case strings.HasPrefix(s, "CREATE FUNCTION"):
				functions++
			}
		}
		if tables != len(allTables) || triggers != civicrmTriggers || functions != 1 {
			t.Errorf("generation %s: %d tables, %d triggers, %d functions; want %d, %d and 1", gen, tables, triggers, functions, len(allTables), civicrmTriggers)
		}
	}
	if _, err := Statements("4.7"); err == nil {
		t.Error("Statements(4.7) succeeded; want an error")
	}
	if _, err := Statements("5"); err != nil {
		t.Errorf("Statements(5), the current generation: %v", err)
	}
}

// allTables are the tables every generation creates.
var allTables = []string{
	"civicrm_worldregion", "civicrm_address_format", "civicrm_country", "civicrm_state_province",
	"civicrm_county", "civicrm_location_type", "civicrm_relationship_type", "civicrm_mapping",
	"civicrm_case_type", "civicrm_contact", "civicrm_address", "civicrm_email", "civicrm_phone",
	"civicrm_im", "civicrm_website", "civicrm_loc_block", "civicrm_case", "civicrm_campaign",
	"civicrm_note", "civicrm_relationship", "civicrm_saved_search", "civicrm_group",
	"civicrm_group_contact", "civicrm_group_nesting", "civicrm_group_organization", "civicrm_tag",
	"civicrm_entity_tag", "civicrm_activity", "civicrm_activity_contact", "civicrm_domain",
}

// newSchema gives the test a database holding one generation's schema.
func newSchema(t *testing.T, generation string) *sql.DB {
	t.Helper()
	x, _ := dbtest.NewDatabase(t)
	if err := CreateSchema(context.Background(), x.DB, generation); err != nil {
		t.Fatal(err)
	}
	return x.DB
}

// stamps are the modified_date columns each generation has, by the type
// CiviCRM gives them ("" for none): the facts the civicrm preset chooses
// its roles from.
var stamps = map[string]map[string]string{
	Generation46:  {"civicrm_contact": "timestamp", "civicrm_note": "date", "civicrm_activity": "", "civicrm_relationship": "", "civicrm_saved_search": ""},
	Generation519: {"civicrm_contact": "timestamp", "civicrm_note": "date", "civicrm_activity": "timestamp", "civicrm_relationship": "", "civicrm_saved_search": ""},
	Generation524: {"civicrm_contact": "timestamp", "civicrm_note": "timestamp", "civicrm_activity": "timestamp", "civicrm_relationship": "", "civicrm_saved_search": ""},
	Generation547: {"civicrm_contact": "timestamp", "civicrm_note": "timestamp", "civicrm_activity": "timestamp", "civicrm_relationship": "timestamp", "civicrm_saved_search": "timestamp"},
	Generation5:   {"civicrm_contact": "timestamp", "civicrm_note": "timestamp", "civicrm_activity": "timestamp", "civicrm_relationship": "timestamp", "civicrm_saved_search": "timestamp"},
}

func TestSchemasLoad(t *testing.T) {
	for _, gen := range Generations {
		t.Run(gen, func(t *testing.T) {
			db := newSchema(t, gen)
			var tables, triggers, fks int
			queryInt(t, db, &tables, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
			queryInt(t, db, &triggers, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()")
			queryInt(t, db, &fks, "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()")
			if tables != len(allTables) || triggers != civicrmTriggers || fks < 50 {
				t.Errorf("%d tables, %d triggers, %d foreign keys", tables, triggers, fks)
			}
			for table, typ := range stamps[gen] {
				var got string
				queryString(t, db, &got, `SELECT COALESCE(MAX(DATA_TYPE), '') FROM information_schema.COLUMNS
					WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'modified_date'`, table)
				if got != typ {
					t.Errorf("%s.modified_date is %q, want %q", table, got, typ)
				}
			}
			var version string
			queryString(t, db, &version, "SELECT version FROM civicrm_domain")
			if version != Releases[gen] {
				t.Errorf("civicrm_domain.version is %q, want %q", version, Releases[gen])
			}
		})
	}
}

// TestTriggers: the schema behaves as a CiviCRM site does. A phone's
// insert stamps its contact's modified_date and fills phone_numeric; a
// contact's insert stamps created_date.
func TestTriggers(t *testing.T) {
	db := newSchema(t, Generation46)
	for _, q := range []string{
		"SET timestamp = UNIX_TIMESTAMP('2024-05-01 10:00:00')",
		"INSERT INTO civicrm_contact (id, contact_type, created_date, modified_date) VALUES (1, 'Individual', '2001-01-01', '2001-01-01')",
		"SET timestamp = UNIX_TIMESTAMP('2024-05-02 10:00:00')",
		"INSERT INTO civicrm_phone (contact_id, phone, phone_numeric) VALUES (1, '+1 (555) 010-9999', 'x')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var created, modified, digits string
	if err := db.QueryRow("SELECT c.created_date, c.modified_date, p.phone_numeric FROM civicrm_contact c JOIN civicrm_phone p ON p.contact_id = c.id").Scan(&created, &modified, &digits); err != nil {
		t.Fatal(err)
	}
	if created != "2024-05-01 10:00:00" || modified != "2024-05-02 10:00:00" || digits != "15550109999" {
		t.Errorf("created %s, modified %s, phone_numeric %s", created, modified, digits)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	// 1500 contacts: two chunks, so the two-connection pipeline runs.
	opts := GenerateOptions{Contacts: 1500, Seed: 42}
	a, b, c := newSchema(t, Generation5), newSchema(t, Generation5), newSchema(t, Generation5)
	countsA := generate(t, a, opts)
	countsB := generate(t, b, opts)
	generate(t, c, GenerateOptions{Contacts: 1500, Seed: 43})
	if !maps.Equal(countsA, countsB) {
		t.Errorf("same seed, different counts:\n%v\n%v", countsA, countsB)
	}
	sumA, sumB, sumC := checksums(t, a), checksums(t, b), checksums(t, c)
	for _, table := range allTables {
		if sumA[table] != sumB[table] {
			t.Errorf("%s: checksum %d and %d for the same seed", table, sumA[table], sumB[table])
		}
	}
	if sumA["civicrm_contact"] == sumC["civicrm_contact"] {
		t.Error("seeds 42 and 43 gave the same contacts")
	}
	if total := countsA.Total(); total < 9*1500 || total > 14*1500 {
		t.Errorf("%d rows for 1500 contacts; want about 11 per contact", total)
	}
}

func TestGenerateKeepsReferences(t *testing.T) {
	for _, gen := range Generations {
		t.Run(gen, func(t *testing.T) {
			db := newSchema(t, gen)
			generate(t, db, GenerateOptions{Contacts: 1200, Seed: 7})
			assertReferencesHold(t, db)
			assertShapes(t, db)
			var emoji, replaced int
			queryInt(t, db, &emoji, "SELECT COUNT(*) FROM civicrm_note WHERE CONVERT(note USING utf8mb4) COLLATE utf8mb4_bin LIKE '%🎉%'")
			queryInt(t, db, &replaced, "SELECT COUNT(*) FROM civicrm_note WHERE CONVERT(note USING utf8mb4) COLLATE utf8mb4_bin LIKE '%\uFFFD%'")
			// Tables were installed in 3-byte utf8 before 5.33.
			wide := gen == Generation547 || gen == Generation5
			switch {
			case wide && (emoji == 0 || replaced != 0):
				t.Errorf("%s: %d notes with an emoji, %d with U+FFFD; want some and none", gen, emoji, replaced)
			case !wide && (emoji != 0 || replaced == 0):
				t.Errorf("%s: %d notes with an emoji, %d with U+FFFD; want none and some", gen, emoji, replaced)
			}
		})
	}
}

func TestGenerateTiny(t *testing.T) {
	// No contacts, or too few for every kind: setup rows must still fit.
	for _, n := range []int{0, 1, 3} {
		db := newSchema(t, Generation5)
		counts := generate(t, db, GenerateOptions{Contacts: n, Seed: 1})
		if counts["civicrm_contact"] != int64(n) || counts["civicrm_group"] != int64(len(groupSpecs)) {
			t.Errorf("%d contacts: counts %v", n, counts)
		}
		assertReferencesHold(t, db)
	}
}

func TestMutate(t *testing.T) {
	for _, gen := range Generations {
		t.Run(gen, func(t *testing.T) {
			ctx := context.Background()
			a, b := newSchema(t, gen), newSchema(t, gen)
			for _, db := range []*sql.DB{a, b} {
				generate(t, db, GenerateOptions{Contacts: 2000, Seed: 5})
			}
			before := checksums(t, a)
			start := time.Now().UTC().Add(-2 * time.Second)
			opts := MutateOptions{Fraction: 0.05, Seed: 9}
			countsA, err := Mutate(ctx, a, opts)
			if err != nil {
				t.Fatal(err)
			}
			countsB, err := Mutate(ctx, b, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(countsA, countsB) {
				t.Errorf("same seed, different changes:\n%v\n%v", countsA, countsB)
			}
			if fingerprint(t, a) != fingerprint(t, b) {
				t.Error("same seed on the same data changed different rows")
			}
			for _, table := range []string{"civicrm_contact", "civicrm_phone", "civicrm_address"} {
				if countsA[table] == 0 || checksums(t, a)[table] == before[table] {
					t.Errorf("%s did not change (%d rows counted)", table, countsA[table])
				}
			}
			// Changes use the real clock, so an incremental export sees them.
			var recent int
			queryInt(t, a, &recent, "SELECT COUNT(*) FROM civicrm_contact WHERE modified_date >= ?", stamp(start))
			if recent < 50 {
				t.Errorf("%d contacts modified since the mutation began; want about 100", recent)
			}
			assertReferencesHold(t, a)
			if _, err := Mutate(ctx, a, MutateOptions{Fraction: 0}); err == nil {
				t.Error("Mutate with fraction 0 succeeded; want an error")
			}
		})
	}
}

func generate(t *testing.T, db *sql.DB, opts GenerateOptions) Counts {
	t.Helper()
	counts, err := Generate(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

func checksums(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	sums := map[string]int64{}
	for _, table := range allTables {
		var name string
		var sum sql.NullInt64
		if err := db.QueryRow("CHECKSUM TABLE "+database.QuoteIdent(table)).Scan(&name, &sum); err != nil {
			t.Fatalf("checksum %s: %v", table, err)
		}
		sums[table] = sum.Int64
	}
	return sums
}

// fingerprint summarizes the contacts and their phones and addresses
// without the clock-stamped columns, which Mutate fills from the real time.
func fingerprint(t *testing.T, db *sql.DB) string {
	t.Helper()
	var parts []string
	for _, q := range []string{
		"SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, display_name, is_deleted, COALESCE(employer_id, 0)))) FROM civicrm_contact",
		"SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', contact_id, phone))) FROM civicrm_phone",
		"SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', contact_id, street_address, city))) FROM civicrm_address",
		"SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', entity_table, entity_id, tag_id))) FROM civicrm_entity_tag",
	} {
		var n, sum sql.NullInt64
		if err := db.QueryRow(q).Scan(&n, &sum); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		parts = append(parts, fmt.Sprint(n.Int64, sum.Int64))
	}
	return strings.Join(parts, " ")
}

// assertReferencesHold checks every declared foreign key and the
// polymorphic references (entity_table, entity_id) for orphans.
func assertReferencesHold(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`SELECT TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
		FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	var checks []string
	for rows.Next() {
		var table, col, refTable, refCol string
		if err := rows.Scan(&table, &col, &refTable, &refCol); err != nil {
			t.Fatal(err)
		}
		checks = append(checks, fmt.Sprintf("SELECT COUNT(*) FROM %s c LEFT JOIN %s p ON p.%s = c.%s WHERE c.%s IS NOT NULL AND p.%s IS NULL",
			database.QuoteIdent(table), database.QuoteIdent(refTable), database.QuoteIdent(refCol),
			database.QuoteIdent(col), database.QuoteIdent(col), database.QuoteIdent(refCol)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(checks) < 50 {
		t.Fatalf("only %d foreign key columns found", len(checks))
	}
	for _, poly := range []struct{ table, target string }{
		{"civicrm_note", "civicrm_contact"}, {"civicrm_note", "civicrm_note"},
		{"civicrm_note", "civicrm_relationship"}, {"civicrm_note", "civicrm_case"},
		{"civicrm_entity_tag", "civicrm_contact"}, {"civicrm_entity_tag", "civicrm_activity"},
	} {
		checks = append(checks, fmt.Sprintf("SELECT COUNT(*) FROM %s c LEFT JOIN %s p ON p.id = c.entity_id WHERE c.entity_table = '%s' AND p.id IS NULL",
			poly.table, poly.target, poly.target))
	}
	for _, q := range checks {
		var orphans int
		queryInt(t, db, &orphans, q)
		if orphans != 0 {
			t.Errorf("%d orphans: %s", orphans, q)
		}
	}
}

// assertShapes checks that the generated data looks like CiviCRM's.
func assertShapes(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, c := range []struct {
		what, query string
		want        func(int) bool
	}{
		{"employers that are not organizations", `SELECT COUNT(*) FROM civicrm_contact c JOIN civicrm_contact e ON e.id = c.employer_id
			WHERE e.contact_type <> 'Organization'`, func(n int) bool { return n == 0 }},
		{"employed individuals", "SELECT COUNT(*) FROM civicrm_contact WHERE employer_id IS NOT NULL", func(n int) bool { return n > 100 }},
		{"shared addresses", "SELECT COUNT(*) FROM civicrm_address WHERE master_id IS NOT NULL", func(n int) bool { return n > 0 }},
		{"addresses without a contact", "SELECT COUNT(*) FROM civicrm_address WHERE contact_id IS NULL", func(n int) bool { return n == 2 }},
		{"comments on notes", "SELECT COUNT(*) FROM civicrm_note WHERE entity_table = 'civicrm_note'", func(n int) bool { return n > 0 }},
		{"child tags", "SELECT COUNT(*) FROM civicrm_tag WHERE parent_id IS NOT NULL", func(n int) bool { return n > 5 }},
		{"smart groups", "SELECT COUNT(*) FROM civicrm_group WHERE saved_search_id IS NOT NULL", func(n int) bool { return n == 5 }},
		{"group nestings", "SELECT COUNT(*) FROM civicrm_group_nesting", func(n int) bool { return n > 0 }},
		{"memberships naming an email", "SELECT COUNT(*) FROM civicrm_group_contact WHERE email_id IS NOT NULL", func(n int) bool { return n > 0 }},
		{"activities with a phone", "SELECT COUNT(*) FROM civicrm_activity WHERE phone_id IS NOT NULL", func(n int) bool { return n > 0 }},
		{"follow-up activities", "SELECT COUNT(*) FROM civicrm_activity WHERE parent_id IS NOT NULL", func(n int) bool { return n > 0 }},
		{"non-ASCII names", "SELECT COUNT(*) FROM civicrm_contact WHERE display_name <> CONVERT(display_name USING ascii)", func(n int) bool { return n > 50 }},
		{"contacts never modified after generation", "SELECT COUNT(*) FROM civicrm_contact WHERE modified_date IS NULL", func(n int) bool { return n == 0 }},
	} {
		var n int
		queryInt(t, db, &n, c.query)
		if !c.want(n) {
			t.Errorf("%s: %d", c.what, n)
		}
	}
}

func queryInt(t *testing.T, db *sql.DB, dest *int, query string, args ...any) {
	t.Helper()
	if err := db.QueryRow(query, args...).Scan(dest); err != nil {
		t.Fatalf("%s: %v", firstLine(query), err)
	}
}

func queryString(t *testing.T, db *sql.DB, dest *string, query string, args ...any) {
	t.Helper()
	if err := db.QueryRow(query, args...).Scan(dest); err != nil {
		t.Fatalf("%s: %v", firstLine(query), err)
	}
}
