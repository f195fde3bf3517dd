package schema

import (
	"strings"
	"testing"
)

// fixture builds an in-memory catalog, so that each validation rule can be
// tested on exactly the shape that triggers it. Reading information_schema
// itself is tested against the real server in catalog_test.go.
type fixture struct{ c *catalog }

func newFixture() *fixture {
	return &fixture{c: &catalog{
		database: "child",
		columns:  map[string][]Column{},
		primary:  map[string][]string{},
		foreign:  map[string]map[string]foreignKey{},
		multiFK:  map[string][]string{},
		unique:   map[string][]UniqueKey{},
	}}
}

// table adds a table whose first column is an AUTO_INCREMENT int id key.
func (f *fixture) table(name string, cols ...Column) *fixture {
	f.c.columns[name] = append([]Column{{Name: "id", DataType: "int", ColumnType: "int(10) unsigned", AutoIncrement: true}}, cols...)
	f.c.primary[name] = []string{"id"}
	return f
}

func (f *fixture) fk(table, column, target, onDelete string) *fixture {
	if f.c.foreign[table] == nil {
		f.c.foreign[table] = map[string]foreignKey{}
	}
	f.c.foreign[table][column] = foreignKey{column: column, refSchema: "child", refTable: target, refColumn: "id", onDelete: onDelete}
	return f
}

func intCol(name string, nullable bool) Column {
	return Column{Name: name, DataType: "int", ColumnType: "int(10) unsigned", Nullable: nullable}
}

func typed(name, dataType string) Column {
	return Column{Name: name, DataType: dataType, ColumnType: dataType, Nullable: true}
}

// contactFixture is the usual start: contacts tracked by modified_date,
// phones owned by contacts, a shared location type.
func contactFixture() *fixture {
	f := newFixture()
	f.table("contact", typed("modified_date", "timestamp"), typed("first_name", "varchar"), typed("api_key", "varchar"), intCol("employer_id", true))
	f.table("phone", intCol("contact_id", false), intCol("location_type_id", true), typed("phone", "varchar"))
	f.table("location_type", typed("name", "varchar"))
	f.fk("contact", "employer_id", "contact", "SET NULL")
	f.fk("phone", "contact_id", "contact", "CASCADE")
	f.fk("phone", "location_type_id", "location_type", "SET NULL")
	return f
}

const contactMap = `
shared: [location_type]
tables:
  contact: { track: modified_date, exclude: [api_key] }
  phone: { owner: contact_id }
`

func resolveYAML(t *testing.T, f *fixture, yamlText string) (*Schema, error) {
	t.Helper()
	m, err := ParseMap([]byte(yamlText), "test.yaml")
	if err != nil {
		t.Fatalf("parse map: %v", err)
	}
	return resolveCatalog(f.c, m, nil)
}

func TestResolveValid(t *testing.T) {
	s, err := resolveYAML(t, contactFixture(), contactMap)
	if err != nil {
		t.Fatal(err)
	}
	if got := tableNames(s); got != "contact phone" {
		t.Errorf("apply order %q, want contact before phone", got)
	}
	contact, _ := s.Table("contact")
	if _, ok := contact.Column("api_key"); ok {
		t.Error("excluded column api_key is still synced")
	}
	if !contact.Mapped || contact.Role != RoleTrack {
		t.Errorf("contact: mapped=%t role=%s", contact.Mapped, contact.Role)
	}
	if ref := contact.Ref("employer_id"); ref == nil || !ref.Deferred || ref.OnDelete != "SET NULL" {
		t.Errorf("employer_id reference = %+v, want deferred SET NULL self-reference", ref)
	}
	phone, _ := s.Table("phone")
	if ref := phone.Ref("location_type_id"); ref == nil || !ref.Shared {
		t.Errorf("location_type_id = %+v, want a shared reference", ref)
	}
	if contact.Checksum || phone.Checksum {
		t.Error("detect: checksum without the map asking for it")
	}
	if !s.IsShared("location_type") || len(s.Fingerprint) != 64 {
		t.Errorf("shared or fingerprint wrong: %v %q", s.Shared, s.Fingerprint)
	}
}

func TestResolveProblems(t *testing.T) {
	tests := []struct {
		name    string
		fixture func() *fixture
		yaml    string
		want    []string // substrings, one per expected problem
	}{
		{"missing table", contactFixture, `tables: { contact: {track: modified_date}, nosuch: {snapshot: true} }`,
			[]string{"nosuch: table not found"}},
		{"missing track column", contactFixture, `tables: { contact: {track: changed_at} }`,
			[]string{"contact.changed_at: track column not found"}},
		{"track column is a DATE", func() *fixture {
			f := newFixture()
			return f.table("note", typed("modified_date", "date"))
		}, `tables: { note: {track: modified_date} }`, []string{"note.modified_date: track column is a DATE"}},
		{"track column is text", contactFixture, `tables: { contact: {track: first_name} }`,
			[]string{"contact.first_name: track column must be DATETIME or TIMESTAMP"}},
		{"no role", contactFixture, `tables: { contact: {exclude: [api_key]} }`,
			[]string{"contact: needs exactly one role"}},
		{"unknown detect", contactFixture, `{shared: [location_type], tables: { contact: {track: modified_date}, phone: {owner: contact_id, detect: checksums} }}`,
			[]string{`phone: detect: "checksums" is not known`}},
		{"two roles", contactFixture, `tables: { contact: {track: modified_date, snapshot: true} }`,
			[]string{"contact: needs exactly one role"}},
		{"reference to a table neither synced nor shared", contactFixture, `tables: { contact: {track: modified_date}, phone: {owner: contact_id} }`,
			[]string{"phone.location_type_id: references location_type, which is neither synced nor shared"}},
		{"owner column is not a reference", contactFixture, `{shared: [location_type], tables: { contact: {track: modified_date}, phone: {owner: phone} }}`,
			[]string{"phone.phone: owner column is not a reference"}},
		{"owner is shared", contactFixture, `{shared: [contact, location_type], tables: { phone: {owner: contact_id} }}`,
			[]string{"phone.contact_id: owner column references shared table contact"}},
		{"shared table missing", contactFixture, `{shared: [location_type, countries], tables: { contact: {track: modified_date} }}`,
			[]string{"countries: shared table not found"}},
		{"both shared and synced", contactFixture, `{shared: [location_type, contact], tables: { contact: {track: modified_date} }}`,
			[]string{"contact: listed both under shared and under tables"}},
		{"excluded column missing and key excluded", contactFixture, `tables: { contact: {track: modified_date, exclude: [id, nope]} }`,
			[]string{"contact.id: a primary key column cannot be excluded", "contact.nope: excluded column not found"}},
		{"no primary key", func() *fixture {
			f := newFixture()
			f.c.columns["log"] = []Column{typed("at", "timestamp")}
			return f
		}, `tables: { log: {track: at} }`, []string{"log: has no primary key"}},
		{"key not auto-increment", func() *fixture {
			f := newFixture().table("t", typed("at", "timestamp"))
			f.c.columns["t"][0].AutoIncrement = false
			return f
		}, `tables: { t: {track: at} }`, []string{"t.id: primary key is not AUTO_INCREMENT"}},
		{"key not an integer", func() *fixture {
			f := newFixture()
			f.c.columns["t"] = []Column{typed("code", "varchar"), typed("at", "timestamp")}
			f.c.primary["t"] = []string{"code"}
			return f
		}, `tables: { t: {track: at} }`, []string{"t.code: primary key must be an integer"}},
		{"composite key with a plain column, tracked", func() *fixture {
			f := contactFixture()
			f.c.columns["contact_tag"] = []Column{intCol("contact_id", false), typed("tag", "varchar"), typed("at", "timestamp")}
			f.c.primary["contact_tag"] = []string{"contact_id", "tag"}
			return f.fk("contact_tag", "contact_id", "contact", "CASCADE")
		}, `tables: { contact: {track: modified_date}, contact_tag: {track: at} }`,
			[]string{"contact_tag.tag: composite primary key column is not a plain reference", "contact_tag: a table with a composite key cannot be tracked"}},
		{"polymorphic discriminator missing", func() *fixture {
			return contactFixture().table("note", intCol("entity_id", false), typed("modified_date", "timestamp"))
		}, `tables: { contact: {track: modified_date}, note: {track: modified_date, references: {entity_id: {table_from: entity_table}}} }`,
			[]string{"note.entity_id: polymorphic discriminator column entity_table not found"}},
		{"reference with both forms", contactFixture, `tables: { contact: {track: modified_date, references: {employer_id: {table: contact, table_from: first_name}}} }`,
			[]string{"contact.employer_id: reference gives both table and table_from"}},
		{"reference column missing", contactFixture, `tables: { contact: {track: modified_date, references: {boss_id: {table: contact}}} }`,
			[]string{"contact.boss_id: reference column not found"}},
		{"multi-column foreign key", func() *fixture {
			f := contactFixture()
			f.c.multiFK["contact"] = []string{"employer_id", "first_name"}
			return f
		}, `tables: { contact: {track: modified_date} }`,
			[]string{"contact.employer_id: part of a multi-column foreign key", "contact.first_name: part of a multi-column foreign key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolveYAML(t, tt.fixture(), tt.yaml)
			pe, ok := err.(*ProblemsError)
			if !ok {
				t.Fatalf("got %v, want a *ProblemsError", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("problems do not mention %q:\n%v", want, err)
				}
			}
			if len(pe.Problems) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(pe.Problems), len(tt.want), err)
			}
		})
	}
}

// TestResolveListsEveryProblem: one run reports all problems, not the first.
func TestResolveListsEveryProblem(t *testing.T) {
	_, err := resolveYAML(t, contactFixture(), `tables: { contact: {track: nope}, phone: {owner: contact_id}, ghost: {snapshot: true} }`)
	for _, want := range []string{"contact.nope", "phone.location_type_id", "ghost: table not found"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
}

func tableNames(s *Schema) string {
	names := make([]string, len(s.Tables))
	for i, t := range s.Tables {
		names[i] = t.Name
	}
	return strings.Join(names, " ")
}
