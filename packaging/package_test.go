// Package packaging holds the Debian package's files (systemd units, the
// account and spool directories, maintainer scripts, example option files)
// and the test that builds the package with scripts/package.sh, unpacks it
// into a fresh directory tree and runs what it installed.
package packaging

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/contents.golden")

const testVersion = "1.2.3~test"

// need finds a tool the test cannot do without. scripts/test.sh and CI set
// TRIBUTARY_TEST_REQUIRE_DB=1, under which no test may skip: there a
// missing tool fails the test.
func need(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	if os.Getenv("TRIBUTARY_TEST_REQUIRE_DB") == "1" {
		t.Fatalf("%s is needed to test the Debian package (apt-get install dpkg)", tool)
	}
	t.Skipf("%s is needed to test the Debian package (apt-get install dpkg)", tool)
	return ""
}

// buildPackage runs scripts/package.sh and returns the .deb.
func buildPackage(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("bash", "scripts/package.sh", out)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "TRIBUTARY_VERSION="+testVersion,
		"PATH="+filepath.Join(runtime.GOROOT(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/package.sh: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	deb := lines[len(lines)-1]
	if want := "tributary_" + testVersion + "_" + runtime.GOARCH + ".deb"; filepath.Base(deb) != want {
		t.Fatalf("package.sh printed %q, want a path ending in %s", deb, want)
	}
	return deb
}

// TestDebianPackage builds the package, checks what it holds against
// testdata/contents.golden, unpacks it into a fresh tree with dpkg -x, and
// runs the installed binary: --version says the package's version, "man"
// writes exactly the pages the package ships, the example option files are
// accepted by the commands they are for, and the maintainer scripts and
// systemd units parse.
func TestDebianPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package")
	}
	dpkgDeb := need(t, "dpkg-deb")
	deb := buildPackage(t)

	fields := run(t, dpkgDeb, "-f", deb, "Package", "Version", "Architecture")
	if want := "Package: tributary\nVersion: " + testVersion + "\nArchitecture: " + runtime.GOARCH + "\n"; fields != want {
		t.Errorf("control fields:\n%s\nwant:\n%s", fields, want)
	}
	checkContents(t, run(t, dpkgDeb, "-c", deb))

	root := t.TempDir()
	run(t, dpkgDeb, "-x", deb, root)
	bin := filepath.Join(root, "usr/bin/tributary")
	if v := run(t, bin, "--version"); !strings.HasPrefix(v, "tributary "+testVersion+"\n") || !strings.Contains(v, "commit:") {
		t.Errorf("installed tributary --version:\n%s", v)
	}
	checkManPages(t, bin, filepath.Join(root, "usr/share/man/man1"))
	checkExamples(t, bin, filepath.Join(root, "usr/share/doc/tributary/examples"))
	if bash := readFile(t, filepath.Join(root, "usr/share/bash-completion/completions/tributary")); !strings.Contains(bash, "__start_tributary") {
		t.Errorf("bash completion does not complete tributary:\n%.300s", bash)
	}

	control := t.TempDir()
	run(t, dpkgDeb, "-e", deb, control)
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		path := filepath.Join(control, script)
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, mode %v", script, err, info.Mode())
			continue
		}
		run(t, "sh", "-n", path)
	}
	checkUnits(t, root, bin)
}

// checkContents compares the package's file list (paths, modes, owners)
// with testdata/contents.golden; go test -update rewrites it.
func checkContents(t *testing.T, listing string) {
	t.Helper()
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(listing), "\n") {
		f := strings.Fields(line)
		// mode owner size date time path: sizes and dates change with
		// every build, modes, owners and paths must not.
		got = append(got, f[len(f)-1]+" "+f[0]+" "+f[1])
	}
	sort.Strings(got)
	text := strings.Join(got, "\n") + "\n"
	golden := filepath.Join("testdata", "contents.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, golden); text != want {
		t.Errorf("package contents differ from %s (go test -update rewrites it):\n%s", golden, diffLines(want, text))
	}
}

// checkManPages: the installed binary writes exactly the pages the package
// holds, and the export page keeps its cron example intact.
func checkManPages(t *testing.T, bin, shipped string) {
	t.Helper()
	fresh := t.TempDir()
	run(t, bin, "man", fresh)
	written, err := filepath.Glob(filepath.Join(fresh, "*.1"))
	if err != nil || len(written) == 0 {
		t.Fatalf("tributary man wrote no pages: %v", err)
	}
	packaged, _ := filepath.Glob(filepath.Join(shipped, "*.1.gz"))
	if len(packaged) != len(written) {
		t.Errorf("the package ships %d pages, tributary man writes %d", len(packaged), len(written))
	}
	for _, page := range written {
		want, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if got := gunzip(t, filepath.Join(shipped, filepath.Base(page)+".gz")); !bytes.Equal(got, want) {
			t.Errorf("%s: the packaged page differs from what the installed binary writes", filepath.Base(page))
		}
	}
	export := readFile(t, filepath.Join(fresh, "tributary-export.1"))
	for _, want := range []string{".TH \"TRIBUTARY\" \"1\"", "tributary-export - Write a sync file", "*/15 * * * * tributary export --defaults-file /etc/tributary/nyc.cnf >/dev/null && rsync"} {
		if !strings.Contains(export, want) {
			t.Errorf("tributary-export.1 lacks %q", want)
		}
	}
}

// checkExamples runs the commands an example option file is for, with the
// file as shipped except for a socket no server listens on and a spool in
// the test's directory: each must get as far as connecting (exit 1), so
// every name in the file is one the command knows.
func checkExamples(t *testing.T, bin, dir string) {
	t.Helper()
	spool := t.TempDir()
	for _, sub := range []string{"out", "inbox"} {
		if err := os.Mkdir(filepath.Join(spool, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		file string
		args []string
	}{
		{"child.cnf", []string{"export"}},
		{"child.cnf", []string{"check"}},
		{"master.cnf", []string{"import"}},
		{"master.cnf", []string{"status", "--check"}},
		{"master.cnf", []string{"check"}},
	}
	for _, tt := range tests {
		text := readFile(t, filepath.Join(dir, tt.file))
		text = strings.ReplaceAll(text, "socket=/run/mysqld/mysqld.sock", "socket="+filepath.Join(spool, "no-server.sock"))
		text = strings.ReplaceAll(text, "/var/spool/tributary", spool)
		cnf := filepath.Join(t.TempDir(), tt.file)
		if err := os.WriteFile(cnf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, append(tt.args, "--defaults-file", cnf)...)
		cmd.Env = append(os.Environ(), "TRIBUTARY_DSN=")
		out, err := cmd.CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 || !strings.Contains(string(out), "no-server.sock") {
			t.Errorf("%s with %s: %v, want exit 1 (no server at the socket):\n%s", strings.Join(tt.args, " "), tt.file, err, out)
		}
	}
}

// checkUnits lets systemd-analyze read the units, where it is installed
// (with the installed binary's path, since it checks ExecStart): any
// message means a unit would not load as written.
func checkUnits(t *testing.T, root, bin string) {
	t.Helper()
	units := filepath.Join(root, "usr/lib/systemd/system")
	for _, name := range []string{"tributary-export@.service", "tributary-export@.timer", "tributary-import.service",
		"tributary-import.timer", "tributary-check.service", "tributary-check.timer"} {
		text := readFile(t, filepath.Join(units, name))
		if strings.HasSuffix(name, ".service") {
			for _, want := range []string{"User=tributary", "ProtectSystem=strict", "ExecStart=/usr/bin/tributary ", "--defaults-file /etc/tributary/"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s lacks %q", name, want)
				}
			}
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the units were checked by content only")
		return
	}
	copies := t.TempDir()
	entries, err := os.ReadDir(units)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		text := strings.ReplaceAll(readFile(t, filepath.Join(units, e.Name())), "/usr/bin/tributary", bin)
		if err := os.WriteFile(filepath.Join(copies, e.Name()), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, "verify", "--man=no", "./tributary-export@nyc.service", "./tributary-export@nyc.timer",
		"tributary-import.service", "tributary-import.timer", "tributary-check.service", "tributary-check.timer")
	cmd.Dir = copies
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		var stderr []byte
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			stderr = exitErr.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// diffLines lists the lines only in want (-) and only in got (+).
func diffLines(want, got string) string {
	in := func(text string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(text, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
