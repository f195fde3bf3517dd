package syncfile_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"tributary/export"
	"tributary/testdata/civicrm"
	"tributary/testdata/civicrm/civitest"
)

var updateSeeds = flag.Bool("update-seeds", false, "export a small generated CiviCRM child into testdata/ as FuzzReader's seed files")

// TestUpdateSeeds writes FuzzReader's seeds from real exports (fake
// people from the generator, no real personal data):
//
//	TRIBUTARY_TEST_DSN='root@tcp(127.0.0.1:3306)/' go test ./syncfile -run TestUpdateSeeds -update-seeds
//
// A full file (gzip), an incremental one (plain) and a signed one, each a
// few kilobytes, so the fuzzer starts from every kind of line export writes.
func TestUpdateSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite syncfile/testdata/*.jsonl*")
	}
	ctx := context.Background()
	db, _ := civitest.NewDatabase(t, civicrm.Generation5, civicrm.GenerateOptions{Contacts: 4, Seed: 7})
	s := civitest.Preset(t, db)
	out := t.TempDir()
	for _, run := range []struct {
		name string
		opts export.Options
	}{
		{"civicrm-full.jsonl.gz", export.Options{Full: true, Gzip: true}},
		{"civicrm-incr.jsonl", export.Options{}},
		{"civicrm-signed-full.jsonl", export.Options{Full: true, SignKey: []byte("fuzz seed key")}},
	} {
		opts := run.opts
		opts.Prefix, opts.OutDir, opts.ToolVersion = "seed", out, "seed"
		res, err := export.Run(ctx, db, s, opts)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(res.Path)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 50<<10 {
			t.Fatalf("%s: %d bytes; keep seeds under 50 KB", run.name, len(data))
		}
		if err := os.WriteFile(filepath.Join("testdata", run.name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("testdata/%s: %d bytes", run.name, len(data))
	}
}
