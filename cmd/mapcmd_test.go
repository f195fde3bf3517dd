package cmd

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tributary/internal/exitcode"
	"tributary/schema"
)

func TestMapListAndShow(t *testing.T) {
	stdout, _, code := execute(t, "map", "list")
	if code != 0 || stdout != strings.Join(schema.PresetNames(), "\n")+"\n" || !strings.Contains(stdout, "civicrm\n") {
		t.Errorf("map list: exit %d: %q", code, stdout)
	}
	stdout, _, code = execute(t, "map", "show", "civicrm")
	want, err := schema.PresetText("civicrm")
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || stdout != string(want) || !strings.HasPrefix(stdout, "# Sync map for CiviCRM") {
		t.Errorf("map show civicrm: exit %d, %d bytes, want the preset as written", code, len(stdout))
	}
	if _, err := schema.ParseMap([]byte(stdout), "shown"); err != nil {
		t.Errorf("the shown map does not load: %v", err)
	}
	for _, args := range [][]string{{"map", "show", "nope"}, {"map", "show", "../etc/passwd"}, {"map", "show"}, {"map", "shw"}} {
		_, stderr, code := execute(t, args...)
		if code != exitcode.Usage {
			t.Errorf("%v: exit %d, want 2: %s", args, code, stderr)
		}
	}
}

// TestCheckShowMap: check --show-map prints the map as it resolved, as
// YAML that loads and resolves to the same schema (same fingerprint).
func TestCheckShowMap(t *testing.T) {
	db, dsn := civiDatabase(t, 0)
	stdout, stderr, code := execute(t, "check", "--dsn", dsn, "--map", "civicrm", "--show-map")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"# Sync map as resolved against database ", "shared:\n  - civicrm_country", "# 1. key id, mapped to master IDs",
		"  civicrm_contact:\n    track: modified_date\n    exclude: [api_key, hash]", "entity_id: {table_from: entity_table}"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--show-map lacks %q:\n%s", want, stdout)
		}
	}
	shown, err := schema.ParseMap([]byte(stdout), "shown")
	if err != nil {
		t.Fatalf("the shown map does not load: %v\n%s", err, stdout)
	}
	preset, err := schema.LoadMap("civicrm")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := schema.Resolve(ctx, db, preset)
	if err != nil {
		t.Fatal(err)
	}
	b, err := schema.Resolve(ctx, db, shown)
	if err != nil {
		t.Fatalf("the shown map does not resolve: %v", err)
	}
	if a.Fingerprint != b.Fingerprint {
		t.Errorf("the shown map resolves to another schema (fingerprint %s, the preset's %s)", b.Fingerprint, a.Fingerprint)
	}
	// The unique: policies come back too: they decide what the master does.
	for _, ta := range a.Tables {
		tb, _ := b.Table(ta.Name)
		if fmt.Sprint(ta.Policies) != fmt.Sprint(tb.Policies) {
			t.Errorf("%s: policies %v shown as %v", ta.Name, ta.Policies, tb.Policies)
		}
	}
	if !strings.Contains(stdout, "unique: {name: rename, title: rename}") {
		t.Errorf("--show-map lacks civicrm_group's policies:\n%s", stdout)
	}
}
