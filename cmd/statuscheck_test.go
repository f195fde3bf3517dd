package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
)

// TestStatusCheck: the monitoring check's outcomes, each a line on
// standard output in the form monitoring plugins use, and its exit code.
func TestStatusCheck(t *testing.T) {
	_, childDSN := civiDatabase(t, 3)
	master, masterDSN := civiDatabase(t, 0)
	inbox := t.TempDir()
	check := func(args ...string) (string, int) {
		t.Helper()
		stdout, _, code := execute(t, append([]string{"status", "--dsn", masterDSN, "--check"}, args...)...)
		return stdout, code
	}

	stdout, code := check()
	if code != exitcode.Failure || !strings.HasPrefix(stdout, "TRIBUTARY CRITICAL - no child has been imported into ") {
		t.Errorf("empty master: exit %d: %s", code, stdout)
	}

	file := exportFile(t, childDSN, t.TempDir())
	if _, stderr, code := execute(t, "import", "--dsn", masterDSN, "--map", "civicrm", file); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	stdout, code = check("--inbox", inbox)
	if code != 0 || !strings.HasPrefix(stdout, "TRIBUTARY OK - 1 prefix, newest data at most ") || !strings.HasSuffix(stdout, " old (--max-lag 2h)\n") {
		t.Errorf("fresh: exit %d: %q", code, stdout)
	}

	// Three hours without a file, and a rejected file waiting.
	dbtest.Exec(t, master, "UPDATE tributary_ledger SET until = until - INTERVAL 3 HOUR, applied_at = applied_at - INTERVAL 3 HOUR")
	failed := filepath.Join(inbox, "failed")
	if err := os.MkdirAll(failed, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nyc-0000000002-incr.jsonl", "nyc-0000000002-incr.jsonl.why", "nyc-0000000003-incr.jsonl.2", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(failed, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stdout, code = check("--inbox", inbox)
	want := "TRIBUTARY CRITICAL - nyc: newest data 3h old (more than --max-lag 2h); last file " + filepath.Base(file) + " applied 3h ago\n" +
		"TRIBUTARY CRITICAL - (unknown prefix): 1 rejected file in " + failed + " (notes.txt; its .why says what to do)\n" +
		"TRIBUTARY CRITICAL - nyc: 2 rejected files in " + failed + " (nyc-0000000002-incr.jsonl, nyc-0000000003-incr.jsonl.2; its .why says what to do)\n"
	if code != exitcode.Failure || stdout != want {
		t.Errorf("stale and rejected: exit %d:\n%s\nwant:\n%s", code, stdout, want)
	}
	stdout, code = check("--max-lag", "4h")
	if code != 0 || !strings.Contains(stdout, "TRIBUTARY OK - 1 prefix, newest data at most 3h old (--max-lag 4h)") {
		t.Errorf("--max-lag 4h: exit %d: %s", code, stdout)
	}

	stdout, code = check("--inbox", inbox, "--json")
	var doc struct {
		Prefixes []json.RawMessage `json:"prefixes"`
		Problems *[]string         `json:"problems"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != exitcode.Failure || doc.Problems == nil || len(*doc.Problems) != 3 || len(doc.Prefixes) != 1 {
		t.Errorf("--check --json: exit %d, %v: %s", code, err, stdout)
	}
	stdout, _, _ = execute(t, "status", "--dsn", masterDSN, "--json")
	if strings.Contains(stdout, "problems") {
		t.Errorf("status --json without --check has problems: %s", stdout)
	}

	// A master that cannot be reached is a CRITICAL line too.
	stdout, _, code = execute(t, "status", "--check", "--dsn", "u:pw-never-shown@tcp(127.0.0.1:1)/db")
	if code != exitcode.Failure || !strings.HasPrefix(stdout, "TRIBUTARY CRITICAL - connect to u@tcp(127.0.0.1:1)/db: connection refused") || strings.Contains(stdout, "pw-never-shown") {
		t.Errorf("dead master: exit %d: %s", code, stdout)
	}
}

func TestRoughly(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {1400 * time.Millisecond, "1s"}, {59 * time.Second, "59s"}, {90 * time.Second, "2m"},
		{2 * time.Hour, "2h"}, {3*time.Hour + 12*time.Minute + 20*time.Second, "3h12m"}, {50 * time.Hour, "2d2h"},
	} {
		if got := roughly(tt.d); got != tt.want {
			t.Errorf("roughly(%s) = %s, want %s", tt.d, got, tt.want)
		}
	}
}
