package export

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/syncfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The whole structure of a small full file and of the incremental file
// after it, line by line. Fields that change from run to run (stream,
// times of writing, server, database name, checksum) are normalised.
func TestGoldenFiles(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(
		`INSERT INTO contact (id, name, api_key, employer_id, modified) VALUES
			(1, 'Acme Inc', 'k1', NULL, '2001-01-01 00:00:01'),
			(2, 'Ann "Nan" Lee', 'k2', 1, '2001-01-01 00:00:02'),
			(3, 'Bob', NULL, 1, NULL)`,
		`INSERT INTO phone (id, contact_id, location_type_id, phone) VALUES (1, 2, 1, '555-0100'), (2, 2, 2, '555-0101')`,
		`INSERT INTO grp (id, title, created_id) VALUES (1, 'Donors', 2)`,
		`INSERT INTO group_contact (group_id, contact_id, status) VALUES (1, 2, 'Added'), (1, 3, 'Removed')`,
		`INSERT INTO activity (id, subject, source_contact_id, modified) VALUES (1, 'Call', 2, '2001-01-01 00:00:03')`,
		`INSERT INTO note (id, entity_table, entity_id, note, modified) VALUES (1, 'contact', 2, 'Likes tea', '2001-01-01 00:00:04')`,
		`INSERT INTO entity_tag (id, entity_table, entity_id, tag_id) VALUES (1, 'contact', 2, 1)`,
	)
	plain := func(o *Options) { o.Gzip = false }
	full, _ := f.export("2001-01-01 00:00:10", plain)
	f.exec(
		`UPDATE contact SET name = 'Ann Lee', modified = '2001-01-01 00:00:12' WHERE id = 2`,
		`DELETE FROM phone WHERE id = 2`,
		`INSERT INTO activity (id, subject, source_contact_id, modified) VALUES (2, 'Visit', 3, '2001-01-01 00:00:15')`,
		`DELETE FROM note WHERE id = 1`,
	)
	incr, _ := f.export("2001-01-01 00:00:20", plain)
	checkGolden(t, full.Path, "testdata/full.golden.jsonl")
	checkGolden(t, incr.Path, "testdata/incremental.golden.jsonl")
}

func checkGolden(t *testing.T, path, golden string) {
	t.Helper()
	got := normalise(t, path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenFiles -update to create it)", err)
	}
	if d := diffLines(string(want), string(got)); d != "" {
		t.Errorf("%s differs from %s (go test -run TestGoldenFiles -update rewrites it):\n%s", filepath.Base(path), golden, d)
	}
}

// normalise rewrites the header's and the trailer's run-dependent fields.
func normalise(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	var h syncfile.Header
	if err := json.Unmarshal(lines[0], &h); err != nil {
		t.Fatal(err)
	}
	h.Stream, h.Created = "STREAM", "CREATED"
	h.Source.Database, h.Source.Host, h.Source.Server, h.Source.Fingerprint = "DATABASE", "HOST", "SERVER", "FINGERPRINT"
	if lines[0], err = json.Marshal(h); err != nil {
		t.Fatal(err)
	}
	var tr syncfile.Trailer
	last := len(lines) - 1
	if err := json.Unmarshal(lines[last], &tr); err != nil {
		t.Fatal(err)
	}
	tr.SHA256 = "SHA256"
	if lines[last], err = json.Marshal(tr); err != nil {
		t.Fatal(err)
	}
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

// diffLines shows the lines that differ, with their numbers.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}
