package schema

import (
	"strings"
	"testing"
)

func TestHolds(t *testing.T) {
	integer := func(columnType string, nullable bool) Column {
		return Column{DataType: strings.Fields(columnType)[0], ColumnType: columnType, Nullable: nullable}
	}
	text := func(dataType, charset string, chars, bytes int64) Column {
		return Column{DataType: dataType, ColumnType: dataType, Charset: charset, MaxChars: chars, MaxBytes: bytes, Nullable: true}
	}
	tests := []struct {
		name          string
		child, master Column
		want          string // substring of the reason; "" when it holds
	}{
		{"same integer", integer("int unsigned", false), integer("int unsigned", false), ""},
		{"wider integer", integer("tinyint", false), integer("int", false), ""},
		{"narrower integer", integer("int", false), integer("smallint", false), "a smaller range"},
		{"unsigned into a signed one of the same size", integer("int unsigned", false), integer("int", false), "a smaller range"},
		{"unsigned into a wider signed one", integer("int unsigned", false), integer("bigint", false), ""},
		{"signed into unsigned", integer("tinyint", false), integer("int unsigned", false), "negative values do not fit"},
		{"nullable into NOT NULL", integer("int", true), integer("int", false), "a NULL would be rejected there"},
		{"longer varchar", text("varchar", "utf8mb4", 64, 256), text("varchar", "utf8mb4", 255, 1020), ""},
		{"shorter varchar", text("varchar", "utf8mb4", 255, 1020), text("varchar", "utf8mb4", 128, 512), "longer values"},
		{"utf8mb3 into utf8mb4", text("varchar", "utf8mb3", 64, 192), text("varchar", "utf8mb4", 64, 256), ""},
		{"utf8mb4 into utf8mb3: emoji", text("varchar", "utf8mb4", 64, 256), text("varchar", "utf8", 64, 192), "character set utf8mb4 here, utf8mb3 on the master"},
		{"text into a varchar counts bytes", text("text", "utf8mb4", 16383, 65535), text("varchar", "utf8mb4", 2048, 8192), "longer values"},
		{"varchar into text", text("varchar", "utf8mb3", 255, 765), text("text", "utf8mb4", 16383, 65535), ""},
		{"enum with a value the master lacks", Column{DataType: "enum", ColumnType: "enum('a','b','c')"}, Column{DataType: "enum", ColumnType: "enum('a','b')"}, "other values"},
		{"enum into a larger enum", Column{DataType: "enum", ColumnType: "enum('a','b')"}, Column{DataType: "enum", ColumnType: "enum('a','b','c')"}, ""},
		{"decimal with fewer digits", Column{DataType: "decimal", Precision: 20, Scale: 2}, Column{DataType: "decimal", Precision: 10, Scale: 2}, "fewer digits"},
		{"timestamp into datetime", Column{DataType: "timestamp"}, Column{DataType: "datetime"}, ""},
		{"datetime into timestamp", Column{DataType: "datetime"}, Column{DataType: "timestamp"}, "a different kind of time"},
		{"a DATE stamp into a TIMESTAMP", Column{DataType: "date"}, Column{DataType: "timestamp"}, "a different kind of time"},
		{"fractional seconds", Column{DataType: "datetime", Precision: 6}, Column{DataType: "datetime"}, "fewer fractional seconds"},
		{"binary into text", Column{DataType: "blob", Binary: true}, Column{DataType: "text"}, "binary on one side"},
		{"number into text", integer("int", false), text("varchar", "utf8mb4", 64, 256), "a different kind of value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := holds(tt.child, tt.master)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("holds = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCollidingKeys: a unique key can hold the same value in two branches
// unless one of its columns holds master IDs of one branch only.
func TestCollidingKeys(t *testing.T) {
	f := newFixture()
	f.table("contact", typed("modified_date", "timestamp"), typed("external_identifier", "varchar"))
	f.table("grp", typed("name", "varchar"), typed("title", "varchar"))
	f.table("group_contact", intCol("contact_id", false), intCol("group_id", false))
	f.table("entity_tag", typed("entity_table", "varchar"), intCol("entity_id", false), typed("label", "varchar"))
	f.table("country", typed("iso", "varchar"))
	f.table("address", intCol("contact_id", false), intCol("country_id", true), typed("kind", "varchar"))
	f.fk("group_contact", "contact_id", "contact", "CASCADE").fk("group_contact", "group_id", "grp", "CASCADE")
	f.fk("address", "contact_id", "contact", "CASCADE").fk("address", "country_id", "country", "")
	f.c.unique["contact"] = []UniqueKey{{"UI_external_identifier", []string{"external_identifier"}}, {"UI_id_ext", []string{"id", "external_identifier"}}}
	f.c.unique["grp"] = []UniqueKey{{"UI_name", []string{"name"}}, {"UI_title", []string{"title"}}}
	f.c.unique["group_contact"] = []UniqueKey{{"UI_contact_group", []string{"contact_id", "group_id"}}}
	f.c.unique["entity_tag"] = []UniqueKey{{"UI_entity", []string{"entity_id", "entity_table"}}, {"UI_label_id", []string{"label", "entity_id"}}}
	f.c.unique["address"] = []UniqueKey{{"UI_country_kind", []string{"country_id", "kind"}}}
	s, err := resolveYAML(t, f, `
shared: [country]
tables:
  contact: {track: modified_date}
  grp: {snapshot: true}
  group_contact: {owner: contact_id}
  entity_tag: {owner: entity_id, references: {entity_id: {table_from: entity_table}}}
  address: {owner: contact_id}
`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tbl := range s.Tables {
		for _, k := range s.CollidingKeys(tbl) {
			got = append(got, tbl.Name+"."+k.Name)
		}
	}
	// The row's own key, references to synced tables, and a polymorphic
	// reference with its discriminator keep branches apart; a shared
	// reference does not (every branch holds the same countries), nor does
	// a polymorphic ID without its discriminator.
	want := "contact.UI_external_identifier grp.UI_name grp.UI_title address.UI_country_kind entity_tag.UI_label_id"
	if strings.Join(got, " ") != want {
		t.Errorf("colliding keys %q\nwant            %q", strings.Join(got, " "), want)
	}
}
