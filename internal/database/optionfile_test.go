package database_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/internal/database"
)

func writeCnf(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// names lists a group's options as name=value@file:line.
func names(files *database.OptionFiles, group string) string {
	var out []string
	for _, o := range files.Group(group) {
		out = append(out, fmt.Sprintf("%s=%s@%s:%d", o.Name, o.Value, filepath.Base(o.File), o.Line))
	}
	return strings.Join(out, " ")
}

// !include and !includedir work as in my.cnf: in place, a directory's
// *.cnf files in name order (other names skipped), a relative path from
// the including file's directory; a second file is read after the first.
func TestOptionFilesIncludes(t *testing.T) {
	dir := t.TempDir()
	main := writeCnf(t, dir, "main.cnf", "# comment\n[tributary]\nmap = civicrm\n!include common/extra.cnf\n[tributary-export]\nprefix=nyc\n!includedir conf.d\n")
	writeCnf(t, dir, "common/extra.cnf", "[tributary]\nlag=10s\n")
	writeCnf(t, dir, "conf.d/20-b.cnf", "[tributary-export]\nout=/b\n")
	writeCnf(t, dir, "conf.d/10-a.cnf", "[tributary-export]\nout=/a\nfull\n")
	writeCnf(t, dir, "conf.d/README", "[tributary-export]\nout=/never\n")
	extra := writeCnf(t, dir, "second.cnf", "[tributary-export]\n; a comment\nprefix = 'sf' # quoted\n")

	files, err := database.ReadOptionFiles(main, "", extra)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(files, "tributary"), "map=civicrm@main.cnf:3 lag=10s@extra.cnf:2"; got != want {
		t.Errorf("[tributary] = %s, want %s", got, want)
	}
	if got, want := names(files, "tributary-export"), "prefix=nyc@main.cnf:6 out=/a@10-a.cnf:2 full=@10-a.cnf:3 out=/b@20-b.cnf:2 prefix=sf@second.cnf:3"; got != want {
		t.Errorf("[tributary-export] = %s, want %s", got, want)
	}
	if got := files.Group("tributary-export")[2]; !got.Bare {
		t.Errorf("a name without a value must be bare: %+v", got)
	}
}

func TestOptionFilesRefuse(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		mode    os.FileMode
		wantErr string
	}{
		{"include loop", map[string]string{"main.cnf": "[client]\n!include other.cnf\n", "other.cnf": "!include main.cnf\n"}, 0o600, "includes itself"},
		{"missing include", map[string]string{"main.cnf": "[client]\n!include nowhere.cnf\n"}, 0o600, "nowhere.cnf"},
		{"unknown directive", map[string]string{"main.cnf": "!require x\n"}, 0o600, "line 1: unknown directive !require"},
		{"option before a group", map[string]string{"main.cnf": "user=x\n[client]\n"}, 0o600, "line 1: an option before any [group]"},
		{"unclosed group", map[string]string{"main.cnf": "[client\n"}, 0o600, "line 1: a group header needs its closing ]"},
		{"unterminated quote", map[string]string{"main.cnf": "[client]\npassword=\"abc\n"}, 0o600, "line 2: unterminated quote"},
		// An included file others can read is refused like the first one.
		{"readable include", map[string]string{"main.cnf": "[client]\n!include other.cnf\n", "other.cnf": "[client]\npassword=x\n"}, 0o644, "other.cnf is readable by every user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				path := writeCnf(t, dir, name, content)
				if name != "main.cnf" {
					if err := os.Chmod(path, tt.mode); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, err := database.ReadOptionFiles(filepath.Join(dir, "main.cnf"))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// [client] may come from either file, the later one winning; files with
// only tributary's groups leave the connection to the environment.
func TestSourceFromOptionFiles(t *testing.T) {
	dir := t.TempDir()
	first := writeCnf(t, dir, "first.cnf", "[client]\nuser=a\npassword=pa\nhost=h1\ndatabase=db1\n")
	second := writeCnf(t, dir, "second.cnf", "[client]\nhost=h2\nport=3307\n")
	flagsOnly := writeCnf(t, dir, "flags.cnf", "[tributary-export]\nprefix=nyc\n")

	cfg, err := database.Source{Role: "child", DefaultsFile: first, DefaultsExtraFile: second}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "a" || cfg.Passwd != "pa" || cfg.Addr != "h2:3307" || cfg.DBName != "db1" {
		t.Errorf("config = %s %s %s %s", cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName)
	}
	cfg, err = database.Source{Role: "child", DefaultsFile: flagsOnly, EnvVar: "TRIBUTARY_DSN", EnvDSN: "u@tcp(env:1)/envdb"}.Config()
	if err != nil || cfg.Addr != "env:1" {
		t.Errorf("no [client]: want the environment's DSN: %v %v", cfg, err)
	}
	_, err = database.Source{Role: "child", DefaultsFile: flagsOnly, EnvVar: "TRIBUTARY_DSN"}.Config()
	if err == nil || !strings.Contains(err.Error(), "a [client] section in --defaults-file") {
		t.Errorf("no connection anywhere: %v", err)
	}
}
