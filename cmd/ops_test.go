package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
)

// executeToFile runs the command line with standard error going to a real
// file that is not a terminal, as under cron, and returns what was written
// there.
func executeToFile(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	root := NewRootCommand("test")
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(f)
	runErr := root.ExecuteContext(context.Background())
	ReportError(root, runErr, exitcode.Code(runErr))
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), string(b), exitcode.Code(runErr)
}

// withoutWarnings drops the "tributary: warning:" lines (export counts
// the rows it leaves out, as the contract asks): what is left must be empty.
func withoutWarnings(stderr string) string {
	var keep []string
	for _, line := range strings.Split(stderr, "\n") {
		if line != "" && !strings.HasPrefix(line, "tributary: warning: ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// TestInboxCommandQuietUnderCron: export straight into the inbox (its
// state and lock dotfiles stay there), import --inbox: the file moves to
// done/, and nothing at all is printed on a non-terminal standard error by
// export, import or verify (cron mail stays empty when all is well). A
// damaged file then goes to failed/ with its .why, exit 3, one clear message.
func TestInboxCommandQuietUnderCron(t *testing.T) {
	_, childDSN := civiDatabase(t, 20)
	_, masterDSN := civiDatabase(t, 0)
	inbox := t.TempDir()
	stdout, stderr, code := executeToFile(t, "export", "--dsn", childDSN, "--prefix", "nyc", "--map", "civicrm", "--out", inbox, "--lag", "0s")
	if code != 0 || withoutWarnings(stderr) != "" {
		t.Fatalf("export: exit %d, stderr %q", code, stderr)
	}
	file := strings.TrimSpace(stdout)
	_, stderr, code = executeToFile(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox)
	if code != 0 || stderr != "" {
		t.Fatalf("import --inbox: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(inbox, "done", filepath.Base(file))); err != nil {
		t.Errorf("applied file not in done/: %v", err)
	}
	if _, err := os.Stat(filepath.Join(inbox, ".tributary-nyc.state")); err != nil {
		t.Errorf("the state file was moved: %v", err)
	}
	stdout, stderr, code = executeToFile(t, "verify", "--child-dsn", childDSN, "--master-dsn", masterDSN, "--prefix", "nyc", "--map", "civicrm")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "exactly") {
		t.Errorf("verify: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	damaged := filepath.Join(inbox, "nyc-0000000002-incr.jsonl")
	if err := os.WriteFile(damaged, []byte(`{"format":"tributary","version":9}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = executeToFile(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox)
	why := filepath.Join(inbox, "failed", "nyc-0000000002-incr.jsonl.why")
	if code != exitcode.Rejected || !strings.Contains(stderr, "unknown format version 9") || !strings.Contains(stderr, why) {
		t.Errorf("damaged file: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(why); err != nil {
		t.Error(err)
	}
}

func TestImportInboxUsage(t *testing.T) {
	t.Setenv("TRIBUTARY_DSN", "")
	dir := t.TempDir()
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"import", "--map", "civicrm", "--inbox", dir, "x.jsonl"}, "either --inbox DIR or sync files"},
		{[]string{"import", "--map", "civicrm", "--inbox", dir, "--rebuild"}, "--rebuild cannot be combined with --inbox"},
		{[]string{"import", "--map", "civicrm", "--inbox", filepath.Join(dir, "nope")}, "not an existing directory"},
	} {
		_, stderr, code := execute(t, tt.args...)
		if code != exitcode.Usage || !strings.Contains(stderr, tt.wantErr) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tt.args, code, stderr, tt.wantErr)
		}
	}
}

// TestStatus: an empty master says so; after an import, --json gives the
// documented document.
func TestStatus(t *testing.T) {
	_, childDSN := civiDatabase(t, 12)
	_, masterDSN := civiDatabase(t, 0)
	stdout, stderr, code := execute(t, "status", "--dsn", masterDSN)
	if code != 0 || !strings.Contains(stdout, "no child has been imported yet") {
		t.Fatalf("empty master: exit %d: %s%s", code, stdout, stderr)
	}
	stdout, _, _ = execute(t, "status", "--dsn", masterDSN, "--json")
	if !strings.Contains(stdout, `"prefixes": []`) || !strings.Contains(stdout, `"format_version": 1`) {
		t.Errorf("empty master --json: %s", stdout)
	}

	file := exportFile(t, childDSN, t.TempDir())
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", file); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	stdout, stderr, code = execute(t, "status", "--dsn", masterDSN, "--json")
	if code != 0 {
		t.Fatalf("status --json: exit %d: %s", code, stderr)
	}
	var doc struct {
		FormatVersion int    `json:"format_version"`
		Database      string `json:"database"`
		Now           string `json:"now"`
		Prefixes      []struct {
			Prefix       string           `json:"prefix"`
			LastSequence *uint64          `json:"last_sequence"`
			Stream       *string          `json:"stream"`
			Mode         *string          `json:"mode"`
			Since        *string          `json:"since"`
			Until        *string          `json:"until"`
			AppliedAt    *string          `json:"applied_at"`
			LagSeconds   *float64         `json:"lag_seconds"`
			FileName     *string          `json:"file_name"`
			FilesApplied int              `json:"files_applied"`
			MappedRows   map[string]int64 `json:"mapped_rows"`
		} `json:"prefixes"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields() // every field is documented; a new one must be added here and in docs/monitoring.md
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if doc.FormatVersion != 1 || doc.Now == "" || len(doc.Prefixes) != 1 {
		t.Fatalf("document: %s", stdout)
	}
	p := doc.Prefixes[0]
	if p.Prefix != "nyc" || p.LastSequence == nil || *p.LastSequence != 1 || *p.Mode != "full" || p.Since != nil || p.Until == nil ||
		p.AppliedAt == nil || p.LagSeconds == nil || *p.LagSeconds < 0 || *p.FileName != filepath.Base(file) || p.FilesApplied != 1 ||
		p.MappedRows["civicrm_contact"] != 12 || p.Stream == nil || len(*p.Stream) == 0 {
		t.Errorf("prefix status: %s", stdout)
	}
	stdout, _, _ = execute(t, "status", "--dsn", masterDSN)
	for _, want := range []string{"PREFIX", "nyc", "full", "civicrm_contact", "12"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}
}

func mustGet(t *testing.T, db interface {
	Get(dest any, query string, args ...any) error
}, dest any, query string, args ...any) {
	t.Helper()
	if err := db.Get(dest, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestImportKeepDone: --keep-done removes an applied file from done/ once
// it and its application are old enough, and keeps, with a warning, an old
// file the ledger does not show as applied.
func TestImportKeepDone(t *testing.T) {
	_, childDSN := civiDatabase(t, 3)
	master, masterDSN := civiDatabase(t, 0)
	inbox := t.TempDir()
	applied := exportFile(t, childDSN, inbox)
	if _, stderr, code := executeToFile(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	notApplied := exportFile(t, childDSN, inbox) // sequence 2, never imported
	done := filepath.Join(inbox, "done")
	appliedDone, strayDone := filepath.Join(done, filepath.Base(applied)), filepath.Join(done, filepath.Base(notApplied))
	if err := os.Rename(notApplied, strayDone); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-40 * 24 * time.Hour)
	for _, p := range []string{appliedDone, strayDone} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox, "--keep-done", "720h", "-v"}
	// Applied just now: too young to go, whatever the file's time says.
	if _, stderr, code := executeToFile(t, args...); code != 0 || !exists(appliedDone) {
		t.Fatalf("a file applied now was removed, or the run failed: exit %d: %s", code, stderr)
	}
	dbtest.Exec(t, master, "UPDATE tributary_ledger SET applied_at = applied_at - INTERVAL 40 DAY")
	_, stderr, code := executeToFile(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if exists(appliedDone) || !exists(strayDone) {
		t.Errorf("after --keep-done: applied file there %t (want removed), unapplied file there %t (want kept)", exists(appliedDone), exists(strayDone))
	}
	for _, want := range []string{"removed 1 applied file(s) older than 720h0m0s", strayDone + ": warning: kept in done/ although older than --keep-done: the ledger shows no sequence 2 of prefix nyc"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	_, stderr, code = execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--keep-done", "1h", applied)
	if code != exitcode.Usage || !strings.Contains(stderr, "--keep-done cleans the done/ directory of --inbox DIR") {
		t.Errorf("--keep-done without --inbox: exit %d: %s", code, stderr)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
