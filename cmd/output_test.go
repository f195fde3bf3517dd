package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/internal/exitcode"
)

// jsonLines parses standard error as JSON Lines; every line must be one
// object with time, level and msg.
func jsonLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON object: %q: %v", line, err)
		}
		for _, key := range []string{"time", "level", "msg"} {
			if _, ok := rec[key]; !ok {
				t.Errorf("record lacks %q: %s", key, line)
			}
		}
		records = append(records, rec)
	}
	return records
}

// find returns the first record of the level whose msg contains text.
func find(records []map[string]any, level, text string) map[string]any {
	for _, r := range records {
		if r["level"] == level && strings.Contains(r["msg"].(string), text) {
			return r
		}
	}
	return nil
}

// inboxWithOneGoodOneDamaged is an inbox with a good file of prefix nyc
// and a damaged one of prefix sf, and a master to import into.
func inboxWithOneGoodOneDamaged(t *testing.T) (inbox, masterDSN, good string) {
	t.Helper()
	_, childDSN := civiDatabase(t, 4)
	_, masterDSN = civiDatabase(t, 0)
	inbox = t.TempDir()
	good = exportFile(t, childDSN, inbox)
	if err := os.WriteFile(filepath.Join(inbox, "sf-0000000001-full.jsonl"), []byte(`{"format":"tributary","version":9}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return inbox, masterDSN, good
}

// TestLogFormatJSON: with --log-format json every line on standard error
// is one JSON object: the rejected file's error with its fields, a
// warning, with -v one record per file applied (its tables as a field),
// and the run's final error with its exit code.
func TestLogFormatJSON(t *testing.T) {
	inbox, masterDSN, good := inboxWithOneGoodOneDamaged(t)
	unwritable := filepath.Join(t.TempDir(), "missing-dir", "import.prom")
	_, stderr, code := executeToFile(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox,
		"--log-format", "json", "-v", "--metrics-file", unwritable)
	if code != exitcode.Rejected {
		t.Fatalf("exit %d, want 3: %s", code, stderr)
	}
	records := jsonLines(t, stderr)
	rejected := find(records, "ERROR", "unknown format version 9")
	if rejected == nil || rejected["file"] != "sf-0000000001-full.jsonl" || rejected["exit_code"] != float64(3) ||
		!strings.HasSuffix(rejected["why"].(string), "failed/sf-0000000001-full.jsonl.why") {
		t.Errorf("rejected file record: %v", rejected)
	}
	applied := find(records, "INFO", "applied prefix nyc sequence 1")
	if applied == nil || applied["file"] != filepath.Base(good) || applied["prefix"] != "nyc" || applied["inserted"] == float64(0) {
		t.Errorf("applied file record: %v", applied)
	} else if tables, ok := applied["tables"].([]any); !ok || len(tables) == 0 {
		t.Errorf("applied file record has no tables with -v: %v", applied)
	}
	if find(records, "WARN", "import.prom") == nil {
		t.Errorf("no warning about the metrics file: %s", stderr)
	}
	final := records[len(records)-1]
	if final["level"] != "ERROR" || final["exit_code"] != float64(3) || !strings.Contains(final["msg"].(string), "1 of 2 files not applied") {
		t.Errorf("final record: %v", final)
	}
}

// TestQuiet: --quiet leaves errors only: no warning, no line per file,
// even where the run would print them.
func TestQuiet(t *testing.T) {
	inbox, masterDSN, _ := inboxWithOneGoodOneDamaged(t)
	unwritable := filepath.Join(t.TempDir(), "missing-dir", "import.prom")
	_, stderr, code := executeToFile(t, "import", "--dsn", masterDSN, "--map", "civicrm", "--inbox", inbox,
		"--quiet", "--metrics-file", unwritable)
	if code != exitcode.Rejected {
		t.Fatalf("exit %d, want 3: %s", code, stderr)
	}
	if strings.Contains(stderr, "warning") || strings.Contains(stderr, "applied prefix") || !strings.Contains(stderr, "unknown format version 9") {
		t.Errorf("--quiet printed more than errors, or not the error:\n%s", stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(line, "tributary: ") {
			t.Errorf("not a message line: %q", line)
		}
	}
	_, stderr, code = execute(t, "status", "--quiet", "--verbose")
	if code != exitcode.Usage || !strings.Contains(stderr, "--quiet and --verbose contradict") {
		t.Errorf("--quiet --verbose: exit %d: %s", code, stderr)
	}
}
