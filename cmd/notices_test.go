package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"tributary/internal/database"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
)

// TestStaleFileToldOnce: an old incremental file of a stream that a newer
// full file replaced is stale (exit 3, moved to failed/). Sent again, as a
// transport that does not remove what it sent does on every run, it is
// moved again without a word (no cron mail), and the metrics count it as
// stale, not as rejected: docs/monitoring.md's rejected-file alert stays quiet.
func TestStaleFileToldOnce(t *testing.T) {
	child, childDSN := civiDatabase(t, 5)
	_, masterDSN := civiDatabase(t, 0)
	out := t.TempDir()
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", exportFile(t, childDSN, out)); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr) // full, stream A
	}
	old := exportFile(t, childDSN, out) // incremental, stream A, never applied
	keep := filepath.Join(t.TempDir(), filepath.Base(old))
	if err := os.Rename(old, keep); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, ".tributary-nyc.state")); err != nil {
		t.Fatal(err)
	}
	waitNextSecond(t, child)
	newer := exportFile(t, childDSN, out) // full, stream B
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", newer); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}

	inbox := t.TempDir()
	prom := filepath.Join(t.TempDir(), "import.prom")
	for run := 1; run <= 2; run++ {
		if err := os.WriteFile(filepath.Join(inbox, filepath.Base(old)), readFileT(t, keep), 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox, "--metrics-file", prom)
		if code != exitcode.Rejected {
			t.Fatalf("run %d: exit %d, want 3: %s", run, code, stderr)
		}
		if told := strings.Contains(stderr, "replaced by a newer full export"); told != (run == 1) || (run == 2 && stderr != "") {
			t.Errorf("run %d: told %t, want %t:\n%s", run, told, run == 1, stderr)
		}
		moved := filepath.Join(inbox, "failed", filepath.Base(old))
		if run == 2 {
			moved += ".2"
		}
		if _, err := os.Stat(moved); err != nil {
			t.Errorf("run %d: %v", run, err)
		}
	}
	got := string(readFileT(t, prom))
	if !strings.Contains(got, `tributary_import_files_stale_total{prefix="nyc"} 2`) || strings.Contains(got, "tributary_import_files_rejected_total{") {
		t.Errorf("metrics:\n%s", got)
	}
	// -v tells it anyway.
	if err := os.WriteFile(filepath.Join(inbox, filepath.Base(old)), readFileT(t, keep), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, _ := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox, "-v"); !strings.Contains(stderr, "replaced by a newer full export") {
		t.Errorf("-v: %s", stderr)
	}
}

// TestTriggerWarningOncePerChange: import warns about triggers it cannot
// read once, not on every cron run, remembering it in tributary_notices;
// when the account may read them again the warning is forgotten, and it
// comes back if the privilege goes again.
func TestTriggerWarningOncePerChange(t *testing.T) {
	child, childDSN := civiDatabase(t, 5)
	master, masterRoot := civiDatabase(t, 0)
	narrowDSN, _ := account(t, master, "SELECT, INSERT, UPDATE, DELETE")
	out := t.TempDir()
	if _, stderr, code := execute(t, "import", "--dsn", masterRoot, "--map", "civicrm", exportFile(t, childDSN, out)); code != 0 {
		t.Fatalf("first import: exit %d: %s", code, stderr)
	}
	cfg, err := mysql.ParseDSN(narrowDSN)
	if err != nil {
		t.Fatal(err)
	}
	who := "'" + cfg.User + "'@'%'" // a name account made, not input
	db := database.QuoteIdent(masterDatabaseName(t, master))
	for i, step := range []struct {
		grant string
		warns bool
	}{
		{"", true},
		{"", false},
		{"GRANT TRIGGER ON " + db + ".* TO " + who, false},
		{"REVOKE TRIGGER ON " + db + ".* FROM " + who, true},
		{"", false},
	} {
		if step.grant != "" {
			dbtest.Exec(t, master, step.grant)
		}
		dbtest.Exec(t, child, "UPDATE civicrm_contact SET first_name = CONCAT('x', id), modified_date = UTC_TIMESTAMP() WHERE id = 1")
		waitNextSecond(t, child)
		t.Setenv("TRIBUTARY_DSN", "")
		_, stderr, code := execute(t, "import", "--dsn", narrowDSN, "--map", "civicrm", exportFile(t, childDSN, out))
		if code != 0 {
			t.Fatalf("import %d: exit %d: %s", i+2, code, stderr)
		}
		if warned := strings.Contains(stderr, "GRANT TRIGGER"); warned != step.warns {
			t.Errorf("import %d: warned %t, want %t: %s", i+2, warned, step.warns, stderr)
		}
	}
}
