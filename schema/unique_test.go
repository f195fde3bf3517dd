package schema

import (
	"strings"
	"testing"
)

// tagFixture: tags with a unique name, a unique (parent_id, label) pair
// and a unique integer code.
func tagFixture() *fixture {
	f := newFixture()
	f.table("tag", typed("name", "varchar"), intCol("parent_id", true), typed("label", "varchar"), intCol("code", true), typed("secret", "varchar"))
	f.c.unique["tag"] = []UniqueKey{
		{Name: "UI_name", Columns: []string{"name"}},
		{Name: "UI_parent_label", Columns: []string{"parent_id", "label"}},
		{Name: "UI_code", Columns: []string{"code"}},
		{Name: "UI_secret", Columns: []string{"secret"}},
	}
	return f
}

func TestUniquePolicies(t *testing.T) {
	tests := []struct {
		name    string
		unique  string
		want    string // policy per key, "UI_name=match ..."
		wantErr string
	}{
		{"by column", "{name: match}", "UI_name=match", ""},
		{"by index name", "{UI_parent_label: rename}", "UI_parent_label=rename:label", ""},
		{"rename renames the key's text column", "{name: rename, code: match}", "UI_code=match UI_name=rename:name", ""}, // in the order of the map's keys
		{"a policy that is neither", "{name: merge}", "", `"merge" is not a policy`},
		{"a column without a unique key of its own", "{label: match}", "", "no unique key of that name"},
		{"no such key", "{UI_nope: match}", "", "no unique key of that name"},
		{"rename needs text", "{code: rename}", "", "rename needs a text column"},
		{"an excluded column cannot be judged", "{secret: match}", "", "not synced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMap([]byte("tables:\n  tag: { snapshot: true, exclude: [secret], unique: "+tt.unique+" }\n"), "m.yaml")
			if err == nil {
				var s *Schema
				s, err = resolveCatalog(tagFixture().c, m, nil)
				if err == nil {
					tag, _ := s.Table("tag")
					var got []string
					for _, p := range tag.Policies {
						g := p.Key.Name + "=" + p.Policy
						if p.Column != "" {
							g += ":" + p.Column
						}
						got = append(got, g)
					}
					if strings.Join(got, " ") != tt.want {
						t.Errorf("policies %v, want %s", got, tt.want)
					}
				}
			}
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}
