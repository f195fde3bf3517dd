package schema

import (
	"strings"
	"testing"
)

func TestApplyOrderAndCycles(t *testing.T) {
	tests := []struct {
		name         string
		fixture      func() *fixture
		yaml         string
		wantOrder    string
		wantDeferred string // table.column, space separated
		wantErr      string
	}{
		{"self-reference is deferred", func() *fixture {
			return newFixture().table("tag", intCol("parent_id", true), typed("at", "timestamp")).fk("tag", "parent_id", "tag", "CASCADE")
		}, `tables: { tag: {snapshot: true} }`, "tag", "tag.parent_id", ""},
		{"chain orders parents first", func() *fixture {
			f := newFixture().table("a", typed("at", "timestamp")).table("b", intCol("a_id", false)).table("c", intCol("b_id", false))
			return f.fk("c", "b_id", "b", "CASCADE").fk("b", "a_id", "a", "CASCADE")
		}, `tables: { c: {owner: b_id}, b: {owner: a_id}, a: {track: at} }`, "a b c", "", ""},
		{"two-table cycle defers one nullable reference", func() *fixture {
			f := newFixture().table("a", intCol("b_id", true), typed("at", "timestamp")).table("b", intCol("a_id", true), typed("at", "timestamp"))
			return f.fk("a", "b_id", "b", "SET NULL").fk("b", "a_id", "a", "SET NULL")
		}, `tables: { a: {track: at}, b: {track: at} }`, "a b", "a.b_id", ""},
		{"two-table cycle never defers the owner column", func() *fixture {
			f := newFixture().table("contact", intCol("primary_phone_id", true), typed("at", "timestamp")).table("phone", intCol("contact_id", true))
			return f.fk("contact", "primary_phone_id", "phone", "SET NULL").fk("phone", "contact_id", "contact", "CASCADE")
		}, `tables: { contact: {track: at}, phone: {owner: contact_id} }`, "contact phone", "contact.primary_phone_id", ""},
		{"three-table cycle", func() *fixture {
			f := newFixture().table("a", intCol("b_id", false), typed("at", "timestamp")).table("b", intCol("c_id", false)).table("c", intCol("a_id", true))
			return f.fk("a", "b_id", "b", "").fk("b", "c_id", "c", "").fk("c", "a_id", "a", "SET NULL")
		}, `tables: { a: {track: at}, b: {snapshot: true}, c: {snapshot: true} }`, "c b a", "c.a_id", ""},
		{"cycle without a nullable column", func() *fixture {
			f := newFixture().table("a", intCol("b_id", false), typed("at", "timestamp")).table("b", intCol("a_id", false))
			return f.fk("a", "b_id", "b", "").fk("b", "a_id", "a", "")
		}, `tables: { a: {track: at}, b: {snapshot: true} }`, "", "", "cycle with no nullable column to fill in a second pass: a.b_id -> b, b.a_id -> a"},
		{"NOT NULL self-reference", func() *fixture {
			return newFixture().table("tag", intCol("parent_id", false)).fk("tag", "parent_id", "tag", "")
		}, `tables: { tag: {snapshot: true} }`, "", "", "tag.parent_id: references its own table but is NOT NULL"},
		{"polymorphic references order softly", func() *fixture {
			return newFixture().table("note", intCol("entity_id", false), typed("entity_table", "varchar"), typed("at", "timestamp")).table("contact", typed("at", "timestamp"))
		}, `tables: { note: {track: at, references: {entity_id: {table_from: entity_table}}}, contact: {track: at} }`, "contact note", "", ""},
		{"polymorphic cycle is no error", func() *fixture {
			f := newFixture().table("note", intCol("entity_id", false), typed("entity_table", "varchar"), typed("at", "timestamp"))
			return f.table("tag", intCol("entity_id", false), typed("entity_table", "varchar"))
		}, `tables: { note: {track: at, references: {entity_id: {table_from: entity_table}}}, tag: {snapshot: true, references: {entity_id: {table_from: entity_table}}} }`, "note tag", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := resolveYAML(t, tt.fixture(), tt.yaml)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tableNames(s); got != tt.wantOrder {
				t.Errorf("order %q, want %q", got, tt.wantOrder)
			}
			var deferred []string
			for _, tbl := range s.Tables {
				for _, col := range tbl.Deferred() {
					deferred = append(deferred, tbl.Name+"."+col)
				}
			}
			if got := strings.Join(deferred, " "); got != tt.wantDeferred {
				t.Errorf("deferred %q, want %q", got, tt.wantDeferred)
			}
			for i, tbl := range s.Tables {
				if tbl.Order != i {
					t.Errorf("%s.Order = %d, want %d", tbl.Name, tbl.Order, i)
				}
			}
		})
	}
}
