package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"tributary/internal/database"
	"tributary/internal/exitcode"
	"tributary/syncfile"
)

// clientSection is the [client] section that reaches the database of dsn.
func clientSection(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(cfg.Addr, ":")
	return "[client]\nuser=" + cfg.User + "\npassword=" + cfg.Passwd + "\nhost=" + host + "\nport=" + port + "\ndatabase=" + cfg.DBName + "\n"
}

func writeOptionFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tributary.cnf")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOptionFileFlags: export takes its connection from [client] and its
// flags from [tributary] and [tributary-export] (an !include too); the
// command's group wins over [tributary], --defaults-extra-file over
// --defaults-file, and the command line over both.
func TestOptionFileFlags(t *testing.T) {
	t.Setenv("TRIBUTARY_DSN", "")
	_, dsn, mapFile := exportChild(t, 2)
	out, cliOut := t.TempDir(), t.TempDir()
	included := writeOptionFile(t, "[tributary-export]\nno_gzip\n")
	// lag=1h in [tributary] would end the window an hour ago; the
	// command's own lag=0s must win.
	cnf := writeOptionFile(t, clientSection(t, dsn)+"[tributary]\nmap="+mapFile+"\nlag=1h\n"+
		"[tributary-export]\nprefix=fromfile\nout="+out+"\nlag=0s\n!include "+included+"\n")
	started := time.Now()

	stdout, stderr, code := execute(t, "export", "--defaults-file", cnf)
	if code != 0 {
		t.Fatalf("export --defaults-file: exit %d: %s", code, stderr)
	}
	path := strings.TrimSpace(stdout)
	if path != filepath.Join(out, "fromfile-0000000001-full.jsonl") {
		t.Errorf("export wrote %s, want fromfile-0000000001-full.jsonl (plain: no-gzip) in %s", path, out)
	}
	r, err := syncfile.Open(path, syncfile.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	until, err := time.Parse(time.RFC3339, r.Header().Until)
	r.Close()
	if err != nil || until.Before(started.Add(-time.Minute)) {
		t.Errorf("window ends %s: [tributary] lag=1h won over [tributary-export] lag=0s (%v)", r.Header().Until, err)
	}

	stdout, stderr, code = execute(t, "export", "--defaults-file", cnf, "--prefix", "cli", "--out", cliOut)
	if code != 0 || strings.TrimSpace(stdout) != filepath.Join(cliOut, "cli-0000000001-full.jsonl") {
		t.Errorf("command line over the file: exit %d: %s%s", code, stdout, stderr)
	}
	extra := writeOptionFile(t, "[tributary-export]\nprefix=extra\n")
	stdout, stderr, code = execute(t, "export", "--defaults-file", cnf, "--defaults-extra-file", extra)
	if code != 0 || strings.TrimSpace(stdout) != filepath.Join(out, "extra-0000000001-full.jsonl") {
		t.Errorf("--defaults-extra-file over --defaults-file: exit %d: %s%s", code, stdout, stderr)
	}

	// A DSN with a password in an option file is private: no warning that
	// ps shows it, as there is for --dsn on the command line.
	withDSN := writeOptionFile(t, "[tributary-export]\ndsn="+strings.Replace(dsn, "@", ":secret-in-file@", 1)+"\nprefix=x\nmap="+mapFile+"\nout="+out+"\n")
	_, stderr, _ = execute(t, "export", "--defaults-file", withDSN)
	if strings.Contains(stderr, "visible to every user") || strings.Contains(stderr, "secret-in-file") {
		t.Errorf("dsn= from an option file: %s", stderr)
	}
}

// TestOptionFileMistakes: every mistake in an option file is a usage error
// (exit 2) naming the file, the line and the name; nothing is run.
func TestOptionFileMistakes(t *testing.T) {
	t.Setenv("TRIBUTARY_DSN", "")
	tests := []struct {
		name    string
		content string
		args    []string
		wantErr string // after "option file FILE "
	}{
		{"unknown name", "[tributary-export]\nprefix=nyc\nprefx=nyc\n", []string{"export"}, `line 3: [tributary-export] has no option "prefx" (see tributary export --help)`},
		{"unknown everywhere", "[tributary]\nmapp=civicrm\n", []string{"status"}, `line 2: [tributary] has no option "mapp"`},
		{"another command's flag in the command's group", "[tributary-status]\nprefix=nyc\n", []string{"status"}, `line 2: [tributary-status] has no option "prefix"`},
		{"bad value", "[tributary-export]\nlag=soon\n", []string{"export"}, `line 2: lag: invalid argument "soon"`},
		{"value missing", "[tributary-export]\nprefix\n", []string{"export"}, "line 2: prefix needs a value (prefix=...)"},
		{"misspelt group", "[tributary-exprot]\nprefix=nyc\n", []string{"export"}, "line 1: [tributary-exprot] names no tributary command"},
		{"option file in an option file", "[tributary]\ndefaults-file=/etc/other.cnf\n", []string{"export"}, "line 2: defaults-file cannot be set in an option file"},
		{"bad log format", "[tributary]\nlog-format=xml\n", []string{"status"}, `--log-format "xml": use text or json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cnf := writeOptionFile(t, tt.content)
			_, stderr, code := execute(t, append(tt.args, "--defaults-file", cnf)...)
			if code != exitcode.Usage || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tt.wantErr, stderr)
			}
			if strings.HasPrefix(tt.wantErr, "line ") && !strings.Contains(stderr, "option file "+cnf+" "+tt.wantErr) {
				t.Errorf("the message does not name the file %s:\n%s", cnf, stderr)
			}
		})
	}
}

// TestOptionFileSharedGroup: [tributary] is read by every command, so a
// flag only another command has is left alone there, as is a "loose-"
// name nobody knows; the run goes on to its own checks.
func TestOptionFileSharedGroup(t *testing.T) {
	t.Setenv("TRIBUTARY_DSN", "")
	cnf := writeOptionFile(t, "[tributary]\nmap=civicrm\ninbox=/var/spool/tributary/inbox\nloose-future-option=1\n[tributary-import]\nkeep-done=720h\n")
	_, stderr, code := execute(t, "export", "--defaults-file", cnf)
	if code != exitcode.Usage || !strings.Contains(stderr, "--prefix is required") {
		t.Errorf("export: exit %d, want the missing --prefix: %s", code, stderr)
	}
	_, stderr, code = execute(t, "check", "--defaults-file", cnf)
	if code != exitcode.Usage || !strings.Contains(stderr, "no database connection") {
		t.Errorf("check: exit %d, want the missing connection: %s", code, stderr)
	}
}

// TestOptionFileNamedFilesOverInbox: a file named on the command line wins
// over an inbox (and its --keep-done) from the option file, so the
// master's one option file serves "import FILE" too; an inbox given on the
// command line with a file is still a usage error.
func TestOptionFileNamedFilesOverInbox(t *testing.T) {
	t.Setenv("TRIBUTARY_DSN", "")
	_, childDSN := civiDatabase(t, 2)
	_, masterDSN := civiDatabase(t, 0)
	inbox := t.TempDir()
	file := exportFile(t, childDSN, t.TempDir())
	cnf := writeOptionFile(t, clientSection(t, masterDSN)+"[tributary]\nmap=civicrm\ninbox="+inbox+"\n[tributary-import]\nkeep-done=720h\n")
	if _, stderr, code := execute(t, "import", "--defaults-file", cnf, file); code != 0 {
		t.Errorf("import --defaults-file FILE: exit %d: %s", code, stderr)
	}
	_, stderr, code := execute(t, "import", "--defaults-file", cnf, "--inbox", inbox, file)
	if code != exitcode.Usage || !strings.Contains(stderr, "either --inbox DIR or sync files") {
		t.Errorf("--inbox and a file on the command line: exit %d: %s", code, stderr)
	}
}

// TestApplyAnywayCommandLeavesOptionFileFlags: the command printed for a
// file --max-delete refused repeats --defaults-file, not the values that
// file gave (it gives them again), and never the inbox or --keep-done.
func TestApplyAnywayCommandLeavesOptionFileFlags(t *testing.T) {
	c := newImportCommand()
	flags := c.Flags()
	if err := flags.Parse([]string{"--defaults-file", "/etc/tributary/master.cnf", "--lock-wait-timeout", "30s"}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []database.Option{{Name: "map", Value: "civicrm"}, {Name: "inbox", Value: "/in"}, {Name: "keep-done", Value: "720h"}, {Name: "sign-key-file", Value: "/k"}} {
		o.File, o.Line = "/etc/tributary/master.cnf", 1
		if err := setFromOptionFile(flags.Lookup(o.Name), flags, o); err != nil {
			t.Fatal(err)
		}
	}
	got := applyAnywayCommand(flags)("/in/nyc-0000000002-incr.jsonl")
	want := "tributary import --defaults-file /etc/tributary/master.cnf --lock-wait-timeout 30s --max-delete 100% /in/nyc-0000000002-incr.jsonl"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
