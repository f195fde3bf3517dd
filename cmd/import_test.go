package cmd

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"tributary/importer"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/testdata/civicrm"
	"tributary/testdata/civicrm/civitest"
	"tributary/verify/verifytest"
)

func TestImportHelpExplains(t *testing.T) {
	out, _, code := execute(t, "import", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	flat := strings.Join(strings.Fields(out), " ") // phrases, however the text is wrapped
	for _, want := range []string{
		"(prefix, sequence)", "one transaction", "mapping_master_PREFIX", "tributary_ledger", "--rebuild",
		"export --full", "exits 75", "SELECT, INSERT, UPDATE and DELETE", "-v",
		"*/10 * * * * tributary import --defaults-file /etc/tributary/master.cnf with /etc/tributary/master.cnf",
		"[tributary-import] map=civicrm", "tributary-import.timer", "--keep-done",
		"--inbox DIR", "DIR/done/", "DIR/failed/", "NAME.why", "--dry-run", "--metrics-file", "--max-delete", "stays in DIR",
		"Exit codes:", "130",
	} {
		if !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("import --help lacks %q", want)
		}
	}
}

func TestImportUsageErrors(t *testing.T) {
	t.Setenv("TRIBUTARY_DSN", "")
	file := filepath.Join(t.TempDir(), "nyc-0000000001-full.jsonl")
	if err := os.WriteFile(file, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no map", []string{"import", file}, "--map is required"},
		{"no file", []string{"import", "--map", "civicrm"}, "name at least one sync file"},
		{"missing file", []string{"import", "--map", "civicrm", file + ".nope"}, "no such file"},
		{"no connection", []string{"import", "--map", "civicrm", file}, "no master connection"},
		{"readable key file", []string{"import", "--map", "civicrm", "--sign-key-file", file, file}, ""},
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := execute(t, tt.args...)
			if code != exitcode.Usage || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.wantErr)
			}
		})
	}
}

// civiDatabase makes a database with the CiviCRM test schema (and
// generated rows when contacts > 0); it returns the database and its DSN.
func civiDatabase(t *testing.T, contacts int) (*sqlx.DB, string) {
	t.Helper()
	return civiGeneration(t, civicrm.Generation5, contacts, 1)
}

// exportFile runs the export command on a child and returns the file path.
func exportFile(t *testing.T, dsn, out string, extra ...string) string {
	t.Helper()
	args := append([]string{"export", "--dsn", dsn, "--prefix", "nyc", "--map", "civicrm", "--out", out, "--lag", "0s", "--no-gzip"}, extra...)
	stdout, stderr, code := execute(t, args...)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	return lines[len(lines)-1]
}

// assertMirrors compares the child with the master through the mapping.
func assertMirrors(t *testing.T, child, master *sqlx.DB) {
	t.Helper()
	verifytest.AssertMirrors(t, child.DB, master.DB, civitest.Preset(t, master), "nyc")
}

func TestImportCommand(t *testing.T) {
	child, childDSN := civiDatabase(t, 40)
	master, masterDSN := civiDatabase(t, 0)
	file := exportFile(t, childDSN, t.TempDir())

	_, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "-v", file)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"nyc-0000000001-full.jsonl: applied prefix nyc sequence 1 (full, ", " inserted, 0 updated, 0 deleted in ", " renamed", "civicrm_contact", "civicrm_entity_tag"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	assertMirrors(t, child, master)

	_, stderr, code = execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", file)
	if code != 0 || !strings.Contains(stderr, "already applied (prefix nyc, sequence 1); nothing changed") {
		t.Errorf("replay: exit %d: %s", code, stderr)
	}

	// A damaged file: exit 3, one line that says what is wrong.
	damaged := filepath.Join(t.TempDir(), "nyc-0000000002-incr.jsonl")
	if err := os.WriteFile(damaged, []byte(`{"format":"tributary","version":9}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", damaged)
	if code != exitcode.Rejected || !strings.Contains(stderr, "unknown format version 9") {
		t.Errorf("damaged file: exit %d: %s", code, stderr)
	}
}

func TestImportCommandLocked(t *testing.T) {
	_, childDSN := civiDatabase(t, 5)
	master, masterDSN := civiDatabase(t, 0)
	file := exportFile(t, childDSN, t.TempDir())
	var dbName string
	if err := master.Get(&dbName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	conn, err := master.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "DO GET_LOCK(?, 0)", importer.LockName(dbName, "nyc")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", file)
	if code != exitcode.Locked || !strings.Contains(stderr, "another import of this prefix is running") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// importBinary builds the real command into the test's temporary
// directory (removed when the test ends).
func importBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tributary")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// dirtyRows counts a table's rows including those of transactions not yet
// committed (READ UNCOMMITTED): it sees an import in progress, and its
// rollback.
func dirtyRows(t *testing.T, conn *sql.Conn, table string) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportSurvivesSIGKILL kills a real import process in the middle of a
// large file: the master is as it was, and the next run applies the file.
func TestImportSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and imports a large file")
	}
	bin := importBinary(t)
	child, childDSN := civiDatabase(t, 4000)
	master, masterDSN := civiDatabase(t, 0)
	file := exportFile(t, childDSN, t.TempDir())
	before := dbtest.Checksums(t, master)

	peek, err := master.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer peek.Close()
	if _, err := peek.ExecContext(context.Background(), "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED"); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "import", "--dsn", masterDSN, "--map", "civicrm", file)
	var output strings.Builder
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	// Kill it once its transaction holds addresses (the contacts, about a
	// quarter of the file, are in by then).
	for dirtyRows(t, peek, "civicrm_address") < 1000 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the import never got going: %s", output.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if strings.Contains(output.String(), "applied") {
		t.Fatalf("the import finished before it was killed: %s", output.String())
	}
	// The server rolls the dead session back; wait for it to finish.
	for dirtyRows(t, peek, "civicrm_contact") > 0 || dirtyRows(t, peek, "civicrm_address") > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the killed import's transaction was never rolled back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := dbtest.Checksums(t, master)
	for name, sum := range after {
		if before[name] != sum && !(before[name] == "" && sum == "0") {
			t.Errorf("table %s changed after SIGKILL (checksum %q -> %q)", name, before[name], sum)
		}
	}

	// The next run (cron's) applies it; a busy lock of the dying session
	// would exit 75, which cron simply retries.
	for {
		out, err := exec.Command(bin, "import", "--dsn", masterDSN, "--map", "civicrm", file).CombinedOutput()
		if err == nil {
			break
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitcode.Locked || time.Now().After(deadline) {
			t.Fatalf("re-run: %v: %s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	assertMirrors(t, child, master)
}

// TestImportUnchangedFileUpdatesNothing: a full file of a CiviCRM branch
// that changed nothing since the last one says "0 updated", and so do the
// ledger and the metrics: only rows the server changed are counted.
func TestImportUnchangedFileUpdatesNothing(t *testing.T) {
	_, childDSN := civiDatabase(t, 20)
	master, masterDSN := civiDatabase(t, 0)
	out := t.TempDir()
	prom := filepath.Join(t.TempDir(), "import.prom")
	first := exportFile(t, childDSN, out)
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", first); code != 0 {
		t.Fatalf("first import: exit %d: %s", code, stderr)
	}
	again := exportFile(t, childDSN, out, "--full")
	_, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "-v", "--metrics-file", prom, again)
	if code != 0 || !strings.Contains(stderr, ": 0 inserted, 0 updated, 0 deleted in ") {
		t.Fatalf("unchanged full file: exit %d: %s", code, stderr)
	}
	var updated int64
	if err := master.Get(&updated, "SELECT updated FROM tributary_ledger WHERE sequence = 2"); err != nil || updated != 0 {
		t.Errorf("ledger: updated %d (%v), want 0", updated, err)
	}
	if got := string(readFileT(t, prom)); strings.Contains(got, `operation="update"} 1`) || !strings.Contains(got, `table="civicrm_contact",operation="update"} 0`) {
		t.Errorf("metrics count updates:\n%s", got)
	}
}
