package cmd

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/syncfile"
	"tributary/syncfile/syncfiletest"
)

const exportTestMap = `
tables:
  contact: { track: modified }
  phone:   { owner: contact_id }
`

// exportChild makes a child database with contacts and phones, and a map
// file for it.
func exportChild(t *testing.T, contacts int) (db *sqlx.DB, dsn, mapFile string) {
	t.Helper()
	db, cfg := dbtest.NewDatabase(t)
	dbtest.Exec(t, db,
		`CREATE TABLE contact (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(255), modified timestamp(6) NULL)`,
		`CREATE TABLE phone (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, contact_id int unsigned NOT NULL, phone varchar(32),
			CONSTRAINT fk_phone FOREIGN KEY (contact_id) REFERENCES contact (id) ON DELETE CASCADE)`,
	)
	if contacts > 0 {
		// Text that compresses poorly, so a file takes a moment to write.
		dbtest.Exec(t, db, `INSERT INTO contact (id, name, modified)
			SELECT seq, CONCAT(SHA2(seq, 256), SHA2(seq + 1, 256), SHA2(seq + 2, 256)), '2001-01-01 00:00:01' FROM seq_1_to_`+strconv.Itoa(contacts))
	}
	mapFile = filepath.Join(t.TempDir(), "map.yaml")
	if err := os.WriteFile(mapFile, []byte(exportTestMap), 0o600); err != nil {
		t.Fatal(err)
	}
	return db, dbtest.DSN(cfg), mapFile
}

func TestExportHelpExplains(t *testing.T) {
	out, _, code := execute(t, "export", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"[since, until)", "--lag", "INNODB_TRX", "PROCESS privilege", "DATETIME", "@@global.time_zone", "--overlap",
		"state file", ".tributary-PREFIX.state", "0600", "new stream", "exits 75", "--new-stream", "@@hostname",
		"*/15 * * * * tributary export --defaults-file /etc/tributary/nyc.cnf >/dev/null && rsync -a --remove-source-files --exclude '.*'",
		"[tributary] map=civicrm and [tributary-export] prefix=nyc", "tributary-export@nyc.timer", "--defaults-extra-file", "!include",
		"Exit codes:", "130",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("export --help lacks %q", want)
		}
	}
}

func TestExportWritesOneFileAndPrintsItsPath(t *testing.T) {
	_, dsn, mapFile := exportChild(t, 3)
	out := t.TempDir()
	stdout, stderr, code := execute(t, "export", "--dsn", dsn, "--prefix", "nyc", "--map", mapFile, "--out", out, "--lag", "0s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	path := lines[len(lines)-1]
	if path != filepath.Join(out, "nyc-0000000001-full.jsonl.gz") {
		t.Errorf("last line of stdout = %q", path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	// The second run is incremental; -v tells what went in, on stderr.
	stdout, stderr, code = execute(t, "export", "--dsn", dsn, "--prefix", "nyc", "--map", mapFile, "--out", out, "--no-gzip", "-v")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := strings.TrimSpace(stdout); got != filepath.Join(out, "nyc-0000000002-incr.jsonl") {
		t.Errorf("stdout = %q", got)
	}
	for _, want := range []string{"TABLE", "contact", "track", "phone", "owner", "sequence 2 (incremental, ["} {
		if !strings.Contains(stderr, want) {
			t.Errorf("-v summary lacks %q:\n%s", want, stderr)
		}
	}
}

func TestExportUsageErrors(t *testing.T) {
	_, dsn, mapFile := exportChild(t, 0)
	out := t.TempDir()
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "bos.state"), []byte(`{"prefix":"bos","stream":"ab","sequence":3,"until":"2024-05-01T12:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"export", "--dsn", dsn, "--map", mapFile}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no prefix", append(base, "--out", out), "--prefix is required"},
		{"prefix with capitals", append(base, "--out", out, "--prefix", "NYC"), "is not valid"},
		{"prefix too long", append(base, "--out", out, "--prefix", "a"+strings.Repeat("b", 32)), "is not valid"},
		{"no out", append(base, "--prefix", "nyc"), "--out is required"},
		{"out missing", append(base, "--prefix", "nyc", "--out", filepath.Join(out, "nope")), "not an existing directory"},
		{"negative lag", append(base, "--prefix", "nyc", "--out", out, "--lag", "-1s"), "--lag"},
		{"no such map", []string{"export", "--dsn", dsn, "--map", "nope", "--prefix", "nyc", "--out", out}, "no such preset"},
		{"state of another prefix", append(base, "--prefix", "nyc", "--out", out, "--state", filepath.Join(other, "bos.state")), `belongs to prefix "bos"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := execute(t, tt.args...)
			if code != exitcode.Usage || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.wantErr)
			}
		})
	}
	if names, _ := os.ReadDir(out); len(names) != 0 {
		t.Errorf("usage errors wrote into --out: %v", names)
	}
}

// A second export of the same prefix while one holds the lock exits 75 at
// once and touches nothing.
func TestExportLockedExits75(t *testing.T) {
	_, dsn, mapFile := exportChild(t, 3)
	out := t.TempDir()
	lock, err := os.OpenFile(filepath.Join(out, ".tributary-nyc.state.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, stderr, code := execute(t, "export", "--dsn", dsn, "--prefix", "nyc", "--map", mapFile, "--out", out)
	if code != exitcode.Locked || !strings.Contains(stderr, "another export of this prefix is running") {
		t.Fatalf("exit %d, stderr %q; want 75", code, stderr)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the locked export waited")
	}
	if names, _ := os.ReadDir(out); len(names) != 1 {
		t.Errorf("--out holds %v, want only the lock file", names)
	}
}

// tributaryBinary builds the real command for a test that runs it as a
// process of its own (the build cache makes every build after the first
// one quick).
func tributaryBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tributary")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}

// A real export process killed with SIGKILL while it writes: whatever
// moment the kill lands, the directory holds the old state with no new
// file, or a complete new file (with the old state, which the next run
// adopts, or the new one); never a partial file under a pick-up name.
// Usually the kill lands while rows are written (the file's temporary name
// holds data); on a loaded machine it may land after the rename.
func TestExportKilledWhileWritingLeavesNoFile(t *testing.T) {
	db, dsn, mapFile := exportChild(t, 200000)
	bin := tributaryBinary(t)
	out := t.TempDir()
	args := []string{"export", "--dsn", dsn, "--prefix", "nyc", "--map", mapFile, "--out", out, "--lag", "0s"}
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("first export: %v: %s", err, b)
	}
	statePath := filepath.Join(out, ".tributary-nyc.state")
	before, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Exec(t, db, "UPDATE contact SET modified = UTC_TIMESTAMP(6)")
	time.Sleep(1100 * time.Millisecond)

	// A full file: its size does not depend on the window, which an open
	// transaction elsewhere on the server may hold back.
	name := syncfile.FileName("nyc", 2, syncfile.ModeFull, true)
	tmp := filepath.Join(out, syncfile.TempName(name))
	proc := exec.Command(bin, append(args, "--full")...)
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitForData(tmp, 30*time.Second) {
		proc.Process.Kill()
		proc.Wait()
		t.Fatal("the export never started writing (or finished before it could be killed)")
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.Wait()

	after, _ := os.ReadFile(statePath)
	visible := syncfiletest.Visible(t, out)
	switch {
	case len(visible) == 1:
		t.Log("killed while writing")
		if string(after) != string(before) {
			t.Errorf("state changed by an export killed before its rename:\n%s\n%s", before, after)
		}
	case len(visible) == 2 && visible[1] == name:
		t.Log("killed after the rename")
		readWholeFile(t, filepath.Join(out, name))
	default:
		t.Fatalf("visible sync files after the kill: %v", visible)
	}
	// The next run goes on with sequence 2 or 3 (after adopting a file
	// the killed run completed) and clears the killed run's leftovers.
	b, err := exec.Command(bin, args...).CombinedOutput()
	last := strings.TrimSpace(string(b))
	if err != nil || !(strings.HasSuffix(last, "nyc-0000000002-incr.jsonl.gz") || strings.HasSuffix(last, "nyc-0000000003-incr.jsonl.gz")) {
		t.Fatalf("export after the kill: %v: %s", err, b)
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("the killed run's temporary file is still there")
	}
}

// readWholeFile reads a sync file to its trailer, which verifies it.
func readWholeFile(t *testing.T, path string) {
	t.Helper()
	r, err := syncfile.Open(path, syncfile.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		if _, err := r.Next(); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
}

// waitForData waits until path exists and holds data.
func waitForData(path string, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if info, err := os.Stat(path); err == nil && info.Size() > 0 {
			return true
		}
	}
	return false
}

// A disk that fills up mid-file (here: a file size limit, which makes
// writes fail with EFBIG) is exit 1 with no file and the state untouched.
func TestExportDiskFullExits1(t *testing.T) {
	_, dsn, mapFile := exportChild(t, 20000)
	bin := tributaryBinary(t)
	out := t.TempDir()
	cmd := exec.Command("bash", "-c", `ulimit -f 200; exec "$0" "$@"`, bin, "export", "--dsn", dsn, "--prefix", "nyc", "--map", mapFile, "--out", out)
	b, err := cmd.CombinedOutput()
	exitErr, ok := err.(*exec.ExitError)
	if !ok || exitErr.ExitCode() != exitcode.Failure {
		t.Fatalf("exit %v, want 1: %s", err, b)
	}
	if !strings.Contains(string(b), "file too large") {
		t.Errorf("stderr does not say what failed: %s", b)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if e.Name() != ".tributary-nyc.state.lock" {
			t.Errorf("left in --out: %s", e.Name())
		}
	}
}
