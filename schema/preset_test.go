package schema

import (
	"strings"
	"testing"
)

func TestPresetRole(t *testing.T) {
	tests := []struct {
		name     string
		cols     []Column
		wantRole Role
		wantNote string
	}{
		{"a TIMESTAMP stamp is tracked", []Column{typed("modified_date", "timestamp")}, RoleTrack, ""},
		{"a DATETIME stamp is tracked", []Column{typed("modified_date", "datetime")}, RoleTrack, ""},
		{"a DATE stamp cannot place a change in a window", []Column{typed("modified_date", "date")}, RoleSnapshot, "modified_date is a DATE in this release"},
		{"no stamp", []Column{typed("subject", "varchar")}, RoleSnapshot, "no modified_date in this release"},
		// Not a stamp at all: stays track, so that check names the column.
		{"a text column", []Column{typed("modified_date", "varchar")}, RoleTrack, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role, note := presetRole(tt.cols, "modified_date")
			if role != tt.wantRole || note != tt.wantNote {
				t.Errorf("got %s %q, want %s %q", role, note, tt.wantRole, tt.wantNote)
			}
		})
	}
}

// presetFixture is an older release: contacts without api_key, notes with
// a DATE stamp, relationships without one.
func presetFixture() *fixture {
	f := newFixture()
	f.table("contact", typed("modified_date", "timestamp"), typed("hash", "varchar"))
	f.table("note", typed("modified_date", "date"), typed("body", "text"))
	f.table("relationship", intCol("contact_a", false), typed("kind", "varchar"))
	f.fk("relationship", "contact_a", "contact", "CASCADE")
	return f
}

const presetYAML = `
tables:
  contact: { track: modified_date, exclude: [api_key, hash] }
  note: { track: modified_date }
  relationship: { track: modified_date, exclude: [case_id] }
`

// TestPresetFitsEveryRelease: a preset excludes columns only where they
// exist and gives a table without a usable stamp the snapshot role, saying
// why; the same map written by a user is strict.
func TestPresetFitsEveryRelease(t *testing.T) {
	m, err := ParseMap([]byte(presetYAML), "preset test")
	if err != nil {
		t.Fatal(err)
	}
	m.preset = true
	s, err := resolveCatalog(presetFixture().c, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"contact":      "track modified_date ",
		"note":         "snapshot  modified_date is a DATE in this release",
		"relationship": "snapshot  no modified_date in this release",
	}
	for name, w := range want {
		tbl, _ := s.Table(name)
		if got := string(tbl.Role) + " " + tbl.Track + " " + tbl.RoleNote; got != w {
			t.Errorf("%s: %q, want %q", name, got, w)
		}
		// A table the release gives no usable stamp is sent only when its
		// digests say it changed.
		if tbl.Checksum != (tbl.Role == RoleSnapshot) {
			t.Errorf("%s: checksum %t", name, tbl.Checksum)
		}
	}
	contact, _ := s.Table("contact")
	if _, ok := contact.Column("hash"); ok || strings.Join(contact.Exclude, ",") != "hash" {
		t.Errorf("contact: hash synced or excludes %v, want only hash excluded", contact.Exclude)
	}

	user, _ := ParseMap([]byte(presetYAML), "user.yaml")
	_, err = resolveCatalog(presetFixture().c, user, nil)
	for _, want := range []string{"contact.api_key: excluded column not found", "note.modified_date: track column is a DATE",
		"relationship.modified_date: track column not found", "relationship.case_id: excluded column not found"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("user map: problems lack %q: %v", want, err)
		}
	}
}

func TestPresetAlias(t *testing.T) {
	m, err := LoadMap("civicrm-4.6")
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != "preset civicrm" || !m.preset || m.Release == nil || m.Release.Application != "CiviCRM" {
		t.Errorf("civicrm-4.6: source %q, preset %t, release %+v", m.Source, m.preset, m.Release)
	}
	alias, err := PresetText("civicrm-4.6")
	preset, err2 := PresetText("civicrm")
	if err != nil || err2 != nil || string(alias) != string(preset) {
		t.Errorf("PresetText(civicrm-4.6) is not the civicrm preset: %v %v", err, err2)
	}
	if names := strings.Join(PresetNames(), ","); names != "civicrm" {
		t.Errorf("PresetNames() = %s, want civicrm only (aliases are not listed)", names)
	}
	user, err := ParseMap([]byte(presetYAML), "user.yaml")
	if err != nil || user.preset {
		t.Errorf("a map file is a preset: %v", err)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"5.47", "5.47.0", 0},
		{"5.9", "5.10", -1},
		{"4.7.25", "4.7.3", 1},
		{"5.39.beta1", "5.39", 0},
		{"6.0.0", "5.81.1", 1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestMatchColumns: the release range from the columns present, and the
// conflicts that show an unfinished upgrade or a hand-made schema.
func TestMatchColumns(t *testing.T) {
	marks := []ReleaseMark{
		{Since: "5.47", Column: "relationship.modified_date"},
		{Since: "4.3", Column: "contact.modified_date"},
		{Since: "5.24", Column: "note.modified_date", Type: "timestamp"},
	}
	tests := []struct {
		name, version string
		want          string // String()
		conflict      string // substring, "" for none
	}{
		{"columns only", "", "CiviCRM 4.3 or later, before 5.24 (from its columns; domain.version holds no version)", ""},
		{"version within the columns' range", "4.7.31", "CiviCRM 4.7.31 (domain.version; its columns are those of 4.3 or later, before 5.24)", ""},
		{"version newer than the columns", "5.50.1", "CiviCRM 5.50.1 (domain.version; its columns are those of 4.3 or later, before 5.24)",
			"domain.version says 5.50.1, but its columns are those of 4.3 or later, before 5.24: an upgrade that did not finish"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Release{Application: "CiviCRM", VersionFrom: "domain.version", Version: tt.version}
			r.matchColumns(presetFixture().c, marks)
			if r.String() != tt.want {
				t.Errorf("String() = %q\nwant        %q", r.String(), tt.want)
			}
			if tt.conflict == "" && r.Conflict != "" || !strings.Contains(r.Conflict, tt.conflict) {
				t.Errorf("conflict %q, want %q", r.Conflict, tt.conflict)
			}
		})
	}

	// No version, and not even the oldest release's column.
	f0 := presetFixture()
	f0.c.columns["contact"] = f0.c.columns["contact"][:1]
	r0 := &Release{Application: "CiviCRM", VersionFrom: "domain.version"}
	r0.matchColumns(f0.c, marks)
	if want := "CiviCRM before 4.3 (from its columns; domain.version holds no version)"; r0.String() != want {
		t.Errorf("String() = %q, want %q", r0.String(), want)
	}

	// A newer release's column without an older one's: no single release.
	f := presetFixture()
	f.c.columns["relationship"] = append(f.c.columns["relationship"], typed("modified_date", "timestamp"))
	r := &Release{Application: "CiviCRM", VersionFrom: "domain.version"}
	r.matchColumns(f.c, marks)
	if !strings.Contains(r.Conflict, "fit no single release: it has those of 5.47 but lacks note.modified_date (5.24)") {
		t.Errorf("conflict %q", r.Conflict)
	}
}

func TestReleaseSpecChecked(t *testing.T) {
	tests := []struct{ yaml, wantErr string }{
		{"release: {version: d.version}\ntables: {t: {snapshot: true}}\n", "application: is required"},
		{"release: {application: X, version: version}\ntables: {t: {snapshot: true}}\n", `version: "version" is not TABLE.COLUMN`},
		{"release: {application: X, version: d.v, first: four}\ntables: {t: {snapshot: true}}\n", `first: "four" is not a release number`},
		{"release: {application: X, version: d.v, columns: [{since: x, column: t.c}]}\ntables: {t: {snapshot: true}}\n", `since "x" is not a release number`},
	}
	for _, tt := range tests {
		if _, err := ParseMap([]byte(tt.yaml), "m.yaml"); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: got %v, want %q", tt.yaml, err, tt.wantErr)
		}
	}
}
