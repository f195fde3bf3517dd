package cmd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/testdata/civicrm"
)

// TestImportDryRunCommand: --dry-run prints per table what would change
// and leaves every table of the master, mapping and ledger included,
// byte-identical (and creates none); with --inbox nothing moves.
func TestImportDryRunCommand(t *testing.T) {
	_, childDSN := civiDatabase(t, 15)
	master, masterDSN := civiDatabase(t, 0)
	inbox := t.TempDir()
	file := exportFile(t, childDSN, inbox)
	before := dbtest.Checksums(t, master)

	for _, args := range [][]string{
		{"import", "--dsn", masterDSN, "--map", "civicrm", "--dry-run", file},
		{"import", "--dsn", masterDSN, "--map", "civicrm", "--dry-run", "--inbox", inbox},
	} {
		stdout, stderr, code := execute(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, want := range []string{"would apply prefix nyc sequence 1 (full)", "TABLE", "INSERT", "civicrm_contact", "15", "the master is unchanged"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, stdout)
			}
		}
		if strings.Contains(stderr, "applied prefix") {
			t.Errorf("a dry run said it applied: %s", stderr)
		}
		dbtest.AssertIdenticalTables(t, before, dbtest.Checksums(t, master))
		if _, err := os.Stat(file); err != nil {
			t.Errorf("the dry run moved the file: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(inbox, "done")); err == nil {
		t.Error("the dry run made done/")
	}
}

// TestMetricsFiles: export and import write the documented metrics, keep
// other prefixes' samples, and count rejected files.
func TestMetricsFiles(t *testing.T) {
	_, childDSN := civiDatabase(t, 10)
	_, masterDSN := civiDatabase(t, 0)
	dir := t.TempDir()
	exportProm := filepath.Join(dir, "export.prom")
	importProm := filepath.Join(dir, "import.prom")
	// A sample of another prefix, written by an earlier run, survives.
	if err := os.WriteFile(importProm, []byte("# TYPE tributary_import_last_success_timestamp_seconds gauge\ntributary_import_last_success_timestamp_seconds{prefix=\"sf\"} 1700000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inbox := t.TempDir()
	file := exportFile(t, childDSN, inbox, "--metrics-file", exportProm)
	prom := string(readFileT(t, exportProm))
	for _, want := range []string{
		`tributary_export_last_success_timestamp_seconds{prefix="nyc"} `,
		`tributary_export_window_end_timestamp_seconds{prefix="nyc"} `,
		`tributary_export_sequence{prefix="nyc"} 1`,
		`tributary_export_rows_total{prefix="nyc",table="civicrm_contact",operation="upsert"} 10`,
		`tributary_export_duration_seconds{prefix="nyc"} `,
		`tributary_export_last_exit_code{prefix="nyc"} 0`,
		"# TYPE tributary_export_rows_total counter",
	} {
		if !strings.Contains(prom, want) {
			t.Errorf("export metrics lack %q:\n%s", want, prom)
		}
	}

	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox, "--metrics-file", importProm); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	damaged := filepath.Join(inbox, "nyc-0000000002-incr.jsonl")
	if err := os.WriteFile(damaged, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox, "--metrics-file", importProm); code != exitcode.Rejected {
		t.Fatalf("damaged file: exit %d", code)
	}
	prom = string(readFileT(t, importProm))
	for _, want := range []string{
		`tributary_import_last_success_timestamp_seconds{prefix="nyc"} `,
		`tributary_import_last_success_timestamp_seconds{prefix="sf"} 1700000000`,
		`tributary_import_window_end_timestamp_seconds{prefix="nyc"} `,
		`tributary_import_sequence{prefix="nyc"} 1`,
		`tributary_import_rows_total{prefix="nyc",table="civicrm_contact",operation="insert"} 10`,
		`tributary_import_files_applied_total{prefix="nyc"} 1`,
		`tributary_import_files_rejected_total{prefix="nyc"} 1`,
		`tributary_import_last_exit_code{} 3`,
		`tributary_import_duration_seconds{} `,
		`tributary_import_last_run_timestamp_seconds{} `,
	} {
		if !strings.Contains(prom, want) {
			t.Errorf("import metrics lack %q:\n%s", want, prom)
		}
	}
	if !strings.Contains(file, "nyc-0000000001-full") {
		t.Errorf("file %s", file)
	}
}

// TestExportSignKeyFile: a key file others can read is refused (exit 2,
// saying how to fix it); a private one signs the file, which the master
// accepts with the same key and rejects with another.
func TestExportSignKeyFile(t *testing.T) {
	_, childDSN := civiDatabase(t, 5)
	_, masterDSN := civiDatabase(t, 0)
	dir := t.TempDir()
	key := filepath.Join(dir, "sign.key")
	if err := os.WriteFile(key, []byte("s3cret-shared-key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	_, stderr, code := execute(t, "export", "--dsn", childDSN, "--prefix", "nyc", "--map", "civicrm", "--out", out, "--sign-key-file", key)
	if code != exitcode.Usage || !strings.Contains(stderr, "is readable by every user") || !strings.Contains(stderr, "chmod 600 "+key) {
		t.Fatalf("readable key: exit %d: %s", code, stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a refused export wrote %d files", len(entries))
	}
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	file := exportFile(t, childDSN, out, "--sign-key-file", key)
	other := filepath.Join(dir, "other.key")
	if err := os.WriteFile(other, []byte("another key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--sign-key-file", other, file); code != exitcode.Rejected {
		t.Errorf("wrong key: exit %d: %s", code, stderr)
	}
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--sign-key-file", key, file); code != 0 {
		t.Errorf("right key: exit %d: %s", code, stderr)
	}
}

func readFileT(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInboxBlockedDoneCommand: an inbox whose done/ is a plain file is a
// configuration error: exit 2 with the directory named, nothing applied
// (every table as it was, no ledger row), the file left in the inbox, and
// the metrics file records the run (last exit code 2).
func TestInboxBlockedDoneCommand(t *testing.T) {
	_, childDSN := civiDatabase(t, 5)
	master, masterDSN := civiDatabase(t, 0)
	inbox := t.TempDir()
	file := exportFile(t, childDSN, inbox)
	done := filepath.Join(inbox, "done")
	if err := os.WriteFile(done, []byte("oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := filepath.Join(t.TempDir(), "import.prom")
	before := dbtest.Checksums(t, master)
	for run := 1; run <= 2; run++ { // and the same on the next run: nothing half-done
		_, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox, "--metrics-file", prom)
		if code != exitcode.Usage || !strings.Contains(stderr, done+" (it is not a directory); nothing was applied") {
			t.Fatalf("run %d: exit %d, want 2 naming %s: %s", run, code, done, stderr)
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("run %d: want one line, got:\n%s", run, stderr)
		}
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("the file left the inbox: %v", err)
	}
	dbtest.AssertIdenticalTables(t, before, dbtest.Checksums(t, master))
	if got := string(readFileT(t, prom)); !strings.Contains(got, "tributary_import_last_exit_code{} 2") {
		t.Errorf("metrics do not record exit 2:\n%s", got)
	}
}

// TestMetricsOnUsageErrors: a run that ends with exit 2 still updates
// --metrics-file, so a broken cron line shows on the dashboard.
func TestMetricsOnUsageErrors(t *testing.T) {
	dir := t.TempDir()
	importProm, exportProm := filepath.Join(dir, "import.prom"), filepath.Join(dir, "export.prom")
	_, stderr, code := execute(t, "import", "--dsn", "u@tcp(127.0.0.1:1)/db", "--map", "no-such-map", "--metrics-file", importProm, filepath.Join(dir))
	if code != exitcode.Usage {
		t.Fatalf("import with a bad map: exit %d: %s", code, stderr)
	}
	if got := string(readFileT(t, importProm)); !strings.Contains(got, "tributary_import_last_exit_code{} 2") || !strings.Contains(got, "tributary_import_last_run_timestamp_seconds{} ") {
		t.Errorf("import metrics after exit 2:\n%s", got)
	}
	_, stderr, code = execute(t, "export", "--dsn", "u@tcp(127.0.0.1:1)/db", "--prefix", "nyc", "--map", "civicrm", "--out", filepath.Join(dir, "missing"), "--metrics-file", exportProm)
	if code != exitcode.Usage {
		t.Fatalf("export into a missing directory: exit %d: %s", code, stderr)
	}
	if got := string(readFileT(t, exportProm)); !strings.Contains(got, `tributary_export_last_exit_code{prefix="nyc"} 2`) || strings.Contains(got, "last_success") {
		t.Errorf("export metrics after exit 2:\n%s", got)
	}
}

// TestImportDryRunShowsMatchAndRename: a second branch naming its tags
// and groups like the first: the dry run counts, per table, the tags it
// would match to the master's and the groups it would rename.
func TestImportDryRunShowsMatchAndRename(t *testing.T) {
	_, nycDSN := civiDatabase(t, 10)
	_, sfDSN := civiGeneration(t, civicrm.Generation5, 10, 2)
	_, masterDSN := civiDatabase(t, 0)
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", exportFile(t, nycDSN, t.TempDir())); code != 0 {
		t.Fatalf("import nyc: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := execute(t, "export", "--dsn", sfDSN, "--prefix", "sf", "--map", "civicrm", "--out", t.TempDir(), "--lag", "0s", "--no-gzip")
	if code != 0 {
		t.Fatalf("export sf: exit %d: %s", code, stderr)
	}
	stdout, stderr, code = execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--dry-run", strings.TrimSpace(stdout))
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`TABLE +INSERT +UPDATE +DELETE +MATCH +RENAME`).MatchString(stdout) {
		t.Errorf("no MATCH and RENAME columns:\n%s", stdout)
	}
	// civicrm_tag: inserted 0, updated 0, deleted 0, every tag matched.
	if !regexp.MustCompile(`(?m)^ +civicrm_tag +0 +0 +0 +[1-9][0-9]* +0$`).MatchString(stdout) {
		t.Errorf("civicrm_tag: want every tag matched, none inserted:\n%s", stdout)
	}
	if !regexp.MustCompile(`(?m)^ +civicrm_group +[1-9][0-9]* +0 +0 +0 +[1-9][0-9]*$`).MatchString(stdout) {
		t.Errorf("civicrm_group: want groups inserted and renamed:\n%s", stdout)
	}
}
