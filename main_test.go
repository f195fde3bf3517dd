package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	tool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(tool); err != nil {
		return "go"
	}
	return tool
}

// build runs "go build" of the module in dir and returns the binary. GOFLAGS
// is set here so that a -buildvcs=false in the machine's go env cannot
// change what is tested.
func build(t *testing.T, dir, goflags string, args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tributary")
	cmd := exec.Command(goTool(), append(append([]string{"build", "-o", bin}, args...), ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS="+goflags, "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
	return bin
}

func runBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	return string(out)
}

// A release build stamps its version with -ldflags, and the commit where
// the toolchain cannot (scripts/package.sh); without either, the commit is
// said to be unknown rather than left out.
func TestVersionOfReleaseBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := build(t, ".", "-buildvcs=false", "-ldflags", "-X main.version=1.2.3")
	out := runBinary(t, bin, "--version")
	for _, want := range []string{"tributary 1.2.3\n", "commit:   unknown (not built from a git checkout)\n", "built by: go"} {
		if !strings.Contains(out, want) {
			t.Errorf("--version lacks %q:\n%s", want, out)
		}
	}
	stamp := "-X main.version=1.2.4 -X tributary/internal/version.commit=0123456789abcdef0123456789abcdef01234567" +
		" -X tributary/internal/version.commitTime=2026-01-02T03:04:05Z -X tributary/internal/version.modified=true"
	out = runBinary(t, build(t, ".", "-buildvcs=false", "-ldflags", stamp), "--version")
	for _, want := range []string{"tributary 1.2.4\n", "commit:   0123456789abcdef0123456789abcdef01234567\n", "date:     2026-01-02T03:04:05Z\n", "tree:     modified"} {
		if !strings.Contains(out, want) {
			t.Errorf("stamped commit: --version lacks %q:\n%s", want, out)
		}
	}
	if out := runBinary(t, bin, "--help"); strings.Contains(out, "-v, --version") || !strings.Contains(out, "-v, --verbose") {
		t.Errorf("-v must mean --verbose, never --version:\n%s", out)
	}
}

// A plain "go build" in a git checkout: --version names the commit, its
// date and whether the tree was modified, from what the toolchain records.
// The module's sources are copied into a repository of the test's own, so
// the outcome does not depend on the state of the checkout under test.
func TestVersionOfGitCheckoutBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is needed to test the version of a build from a checkout")
	}
	repo := t.TempDir()
	copyModule(t, repo)
	gitRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(git, append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=2026-03-04T05:06:07Z", "GIT_AUTHOR_DATE=2026-03-04T05:06:07Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitRun("init", "-q")
	gitRun("add", "-A")
	gitRun("commit", "-q", "-m", "test build")
	commit := gitRun("rev-parse", "HEAD")

	out := runBinary(t, build(t, repo, "-buildvcs=true"), "--version")
	for _, want := range []string{"commit:   " + commit + "\n", "date:     2026-03-04T05:06:07Z\n", "tree:     clean"} {
		if !strings.Contains(out, want) {
			t.Errorf("clean checkout: --version lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`^tributary v0\.0\.0-20260304050607-` + commit[:12] + `\n`).MatchString(out) {
		t.Errorf("clean checkout: first line should carry the toolchain's pseudo-version:\n%s", out)
	}

	if err := os.WriteFile(filepath.Join(repo, "extra.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = runBinary(t, build(t, repo, "-buildvcs=true"), "--version")
	if !strings.Contains(out, "tree:     modified") || !strings.Contains(out, commit) {
		t.Errorf("modified checkout: --version:\n%s", out)
	}
}

// copyModule copies go.mod, go.sum and the Go and embedded files of every
// package the command is built from into dir.
func copyModule(t *testing.T, dir string) {
	t.Helper()
	list := exec.Command(goTool(), "list", "-deps", "-f", `{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}{{end}}`, ".")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		rel, err := filepath.Rel(root, fields[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields[1:] {
			files = append(files, filepath.Join(rel, f))
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
