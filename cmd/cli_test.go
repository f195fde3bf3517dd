package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
)

// execute runs the tributary command line in-process, as main does, and
// returns what it printed and the exit code main would use.
func execute(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCommand("test")
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(context.Background())
	ReportError(root, err, exitcode.Code(err))
	return out.String(), errOut.String(), exitcode.Code(err)
}

// TestHelpForEveryCommand: every command explains itself and its exit codes.
func TestHelpForEveryCommand(t *testing.T) {
	root := NewRootCommand("test")
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			out, _, code := execute(t, c.Name(), "--help")
			if code != 0 {
				t.Fatalf("%s --help exited %d", c.Name(), code)
			}
			for _, want := range []string{"Usage:", "Exit codes:", "75"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s --help lacks %q:\n%s", c.Name(), want, out)
				}
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"check"},                                // --map missing
		{"check", "--map", "civicrm", "--bogus"}, // unknown flag
		{"check", "--map", "civicrm", "extra"},   // stray argument
		{"check", "--map", "civicrm"},            // no connection at all
	} {
		t.Setenv("TRIBUTARY_DSN", "")
		_, stderr, code := execute(t, args...)
		if code != exitcode.Usage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
}

func TestCheckDeadServerExits1(t *testing.T) {
	_, stderr, code := execute(t, "check", "--map", "civicrm", "--dsn", "u:pw-never-shown@tcp(127.0.0.1:1)/db")
	if code != exitcode.Failure {
		t.Fatalf("exit %d, want 1", code)
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") > 1 || !strings.Contains(stderr, "connection refused") || strings.Contains(stderr, "pw-never-shown") {
		t.Errorf("want one clear line without the password, got:\n%s", stderr)
	}
}

func TestCheckListsEveryProblem(t *testing.T) {
	db, cfg := dbtest.NewDatabase(t)
	dbtest.Exec(t, db,
		"CREATE TABLE contact (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, modified_date TIMESTAMP NULL, employer_id INT UNSIGNED NULL,"+
			" FOREIGN KEY (employer_id) REFERENCES contact (id) ON DELETE SET NULL)",
		"CREATE TABLE campaign (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY)",
		"CREATE TABLE activity (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, campaign_id INT UNSIGNED NULL, FOREIGN KEY (campaign_id) REFERENCES campaign (id))",
	)
	dir := t.TempDir()
	good := writeMap(t, dir, "good.yaml", "tables:\n  contact: {track: modified_date}\n  activity: {snapshot: true, exclude: [campaign_id]}\n")
	out, stderr, code := execute(t, "check", "--dsn", dbtest.DSN(cfg), "--map", good)
	if code != 0 {
		t.Fatalf("good map: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"contact", "track modified_date", "employer_id->contact (2nd pass)", "filled in a second pass"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	bad := writeMap(t, dir, "bad.yaml", "tables:\n  contact: {track: changed}\n  activity: {snapshot: true}\n  ghost: {snapshot: true}\n")
	_, stderr, code = execute(t, "check", "--dsn", dbtest.DSN(cfg), "--map", bad)
	if code != exitcode.Usage {
		t.Fatalf("bad map: exit %d, want 2", code)
	}
	for _, want := range []string{"contact.changed: track column not found", "activity.campaign_id: references campaign, which is neither synced nor shared", "ghost: table not found"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("problems lack %q:\n%s", want, stderr)
		}
	}

	typo := writeMap(t, dir, "typo.yaml", "tables:\n  contact:\n    trak: modified_date\n")
	_, stderr, code = execute(t, "check", "--dsn", dbtest.DSN(cfg), "--map", typo)
	if code != exitcode.Usage || !strings.Contains(stderr, "line 3: field trak not found") {
		t.Errorf("typo: exit %d: %s", code, stderr)
	}
}

func writeMap(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestUnknownCommandExits2: a mistyped command is a usage error, with the
// command it was probably meant to be; the bare command shows the help.
func TestUnknownCommandExits2(t *testing.T) {
	_, stderr, code := execute(t, "exprot", "--dsn", "x")
	if code != exitcode.Usage || !strings.Contains(stderr, `unknown command "exprot" (did you mean export?`) {
		t.Errorf("tributary exprot: exit %d: %s", code, stderr)
	}
	out, stderr, code := execute(t)
	if code != 0 || !strings.Contains(out, "Available Commands:") {
		t.Errorf("tributary alone: exit %d: %s%s", code, out, stderr)
	}
}
