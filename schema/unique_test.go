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

func TestRenamed(t *testing.T) {
	tests := []struct {
		name, value string
		n           int
		max         int64
		want        string
		ok          bool
	}{
		{"first form", "Members", 1, 64, "Members (nyc)", true},
		{"later forms are numbered", "Members", 3, 64, "Members (nyc 3)", true},
		{"exactly at the limit", "Members", 1, 13, "Members (nyc)", true},
		{"cut to fit", "Members", 1, 10, "Memb (nyc)", true},
		// Characters, not bytes: the cut never splits "ü".
		{"cut by characters", "Müller-Lüdenscheid", 1, 10, "Müll (nyc)", true},
		{"numbered form cut further", "Members", 12, 12, "Mem (nyc 12)", true},
		{"an empty value takes the suffix alone", "", 1, 6, " (nyc)", true},
		{"no room for one character", "Members", 1, 6, "", false},
		{"no room for the suffix", "", 1, 5, "", false},
		{"no limit", "Members", 1, 0, "Members (nyc)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Renamed(tt.value, "nyc", tt.n, tt.max)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Renamed(%q, %d, %d) = %q, %t; want %q, %t", tt.value, tt.n, tt.max, got, ok, tt.want, tt.ok)
			}
			if ok && !IsRenamed(got, tt.value, "nyc", tt.max) {
				t.Errorf("IsRenamed(%q) is false", got)
			}
		})
	}
	if IsRenamed("Members (bos)", "Members", "nyc", 64) || IsRenamed("Members", "Members", "nyc", 64) {
		t.Error("IsRenamed accepts a form of another prefix, or the bare value")
	}
}
