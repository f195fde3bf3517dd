package repair

import (
	"context"
	"strings"
	"testing"

	"tributary/importer/internal/testschema"
	"tributary/internal/dbtest"
	"tributary/schema"
)

// TestAddTrigger: what import learns from one trigger of the master, in the
// forms triggers take: one statement, or CiviCRM's BEGIN ... END block
// (its exact spacing), and bodies whose effect cannot be read.
func TestAddTrigger(t *testing.T) {
	s := testSchema(t)
	tests := []struct {
		name, table, timing, body string
		repair                    string // "table.col ..." learnt, in map order
		opaque                    bool
	}{
		{"one UPDATE of a synced table", "email", "AFTER",
			"UPDATE contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id",
			"contact.modified_date", false},
		{"CiviCRM's block around an UPDATE", "email", "AFTER",
			"BEGIN  \nUPDATE contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;\n END",
			"contact.modified_date", false},
		{"CiviCRM's block around a SET in a BEFORE trigger", "contact", "BEFORE",
			"BEGIN  \nSET NEW.created = CURRENT_TIMESTAMP;\n END",
			"contact.created", false},
		{"a block of several statements", "email", "AFTER",
			"BEGIN\nUPDATE contact SET modified_date = NOW() WHERE id = NEW.contact_id;\nUPDATE org SET modified_date = NOW() WHERE id = 1;\nEND",
			"contact.modified_date org.modified_date", false},
		{"a logging insert into an unsynced table is harmless", "contact", "AFTER",
			"BEGIN\nINSERT INTO log_contact (id, display_name) VALUES (NEW.id, NEW.display_name);\nEND",
			"", false},
		// Control flow decides what runs: import cannot tell what changes.
		{"a condition around an UPDATE", "email", "AFTER",
			"BEGIN\nIF NEW.is_primary THEN\nUPDATE contact SET modified_date = NOW() WHERE id = NEW.contact_id;\nEND IF;\nEND",
			"", true},
		{"a condition around a SET of NEW", "contact", "BEFORE",
			"BEGIN\nIF NEW.big > 0 THEN SET NEW.amount = 0; END IF;\nEND",
			"", true},
		{"a delete from a synced table", "note", "AFTER",
			"BEGIN\nDELETE FROM email WHERE contact_id = OLD.entity_id;\nEND",
			"", true},
		{"a string literal might hide a ';'", "contact", "BEFORE",
			"BEGIN\nSET NEW.display_name = 'a; b';\nEND",
			"", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Facts{autoUpdate: map[string][]string{}, repair: map[string][]string{}}
			f.addTrigger(s, "trg", tt.table, tt.timing, tt.body)
			var got []string
			for _, tbl := range s.Tables {
				for _, col := range f.repair[tbl.Name] {
					got = append(got, tbl.Name+"."+col)
				}
			}
			if strings.Join(got, " ") != tt.repair {
				t.Errorf("repairs %q, want %q", got, tt.repair)
			}
			if (len(f.opaque) > 0) != tt.opaque {
				t.Errorf("opaque %v, want %t", f.opaque, tt.opaque)
			}
		})
	}
}

// testSchema resolves the importer's test map on a new database.
func testSchema(t *testing.T) *schema.Schema {
	t.Helper()
	db, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, db, testschema.Statements...)
	m, err := schema.ParseMap([]byte(testschema.Map), "test map")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Resolve(context.Background(), db, m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
