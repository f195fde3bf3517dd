package cmd

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"tributary/importer"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/syncfile"
	"tributary/syncfile/syncfiletest"
)

// process is a real tributary process started by a test. Its output may
// be read once it has exited (wait, or exited reports true).
type process struct {
	cmd     *exec.Cmd
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	done    chan struct{}
	waitErr error
}

func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process and returns its exit code.
func (p *process) wait(t *testing.T) int {
	t.Helper()
	<-p.done
	var exitErr *exec.ExitError
	switch {
	case p.waitErr == nil:
		return 0
	case errors.As(p.waitErr, &exitErr):
		return exitErr.ExitCode()
	}
	t.Fatalf("wait: %v", p.waitErr)
	return -1
}

// runProcess runs a real tributary to its end.
func runProcess(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	p := startProcess(t, bin, args...)
	code = p.wait(t)
	return p.stdout.String(), p.stderr.String(), code
}

// importFixture is a large full file of a CiviCRM child, big enough that
// its import takes a while, shared by the import fault tests (each gets a
// master of its own).
type importFixture struct {
	bin   string
	child *sqlx.DB
	file  string
}

func newImportFixture(t *testing.T) *importFixture {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and imports a large file")
	}
	f := &importFixture{bin: importBinary(t)}
	var childDSN string
	f.child, childDSN = civiDatabase(t, 2500)
	f.file = exportFile(t, childDSN, t.TempDir())
	return f
}

// readUncommitted opens a session that sees rows of transactions not yet
// committed: it watches an import work, and its rollback.
func readUncommitted(t *testing.T, db *sqlx.DB) *sql.Conn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(context.Background(), "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED"); err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitRolledBack waits until the server has rolled back what the import
// wrote (a dead session's rollback runs after its process is gone).
func waitRolledBack(t *testing.T, peek *sql.Conn) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for dirtyRows(t, peek, "civicrm_contact") > 0 || dirtyRows(t, peek, "civicrm_address") > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the import's transaction was never rolled back")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// reimport runs the import again as cron would, and wants it applied. A
// lock the dying session still holds exits 75, which cron retries.
func (f *importFixture) reimport(t *testing.T, dsn string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, stderr, code := runProcess(t, f.bin, "import", "--dsn", dsn, "--map", "civicrm", f.file)
		if code == 0 {
			if !strings.Contains(stderr, "applied prefix nyc sequence 1") {
				t.Errorf("re-run: %s", stderr)
			}
			return
		}
		if code != exitcode.Locked || time.Now().After(deadline) {
			t.Fatalf("re-run: exit %d: %s", code, stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func masterDatabaseName(t *testing.T, db *sqlx.DB) string {
	t.Helper()
	var name string
	if err := db.Get(&name, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	return name
}

// lockHolder is the connection ID holding the import lock of prefix nyc on
// the master, or 0 when no session holds it.
func lockHolder(t *testing.T, master *sqlx.DB) int64 {
	t.Helper()
	return dbtest.LockHolder(t, master, importer.LockName(masterDatabaseName(t, master), "nyc"))
}

func TestImportFaults(t *testing.T) {
	f := newImportFixture(t)

	// Ctrl-C (or cron's SIGTERM) in the middle of a file: exit 130, the
	// transaction rolled back, every table as it was; the next run applies
	// the file.
	t.Run("SIGINT", func(t *testing.T) {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(sig.String(), func(t *testing.T) {
				master, dsn := civiDatabase(t, 0)
				before := dbtest.Checksums(t, master)
				p := f.startImportInto(t, master, dsn)
				if err := p.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				code := p.wait(t)
				stderr := p.stderr.String()
				if code != exitcode.Interrupted || !strings.Contains(stderr, "interrupted") {
					t.Fatalf("exit %d, want 130: %s", code, stderr)
				}
				if strings.Contains(stderr, "applied prefix") {
					t.Fatalf("the import finished before it was interrupted: %s", stderr)
				}
				waitRolledBack(t, readUncommitted(t, master))
				dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master))
				f.reimport(t, dsn)
				assertMirrors(t, f.child, master)
			})
		}
	})

	// Ctrl-C while a statement of the import waits for a table another
	// session has locked: the import kills its own session on the server,
	// so when it has exited (130) the prefix's lock is free and an
	// immediate re-run applies the file, without "another import".
	t.Run("SIGINT while waiting", func(t *testing.T) {
		master, dsn := civiDatabase(t, 0)
		before := dbtest.Checksums(t, master)
		unlock := holdTable(t, master, "civicrm_activity_contact")
		p := startProcess(t, f.bin, "import", "--dsn", dsn, "--map", "civicrm", f.file)
		waitBlocked(t, master, p)
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(t); code != exitcode.Interrupted {
			t.Fatalf("exit %d, want 130: %s", code, p.stderr.String())
		}
		if id := lockHolder(t, master); id != 0 {
			t.Fatalf("the interrupted import has exited, but its session %d still holds the prefix's lock", id)
		}
		unlock()
		dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master))
		_, stderr, code := runProcess(t, f.bin, "import", "--dsn", dsn, "--map", "civicrm", f.file)
		if code != 0 {
			t.Fatalf("the re-run at once: exit %d: %s", code, stderr)
		}
		assertMirrors(t, f.child, master)
	})

	// The master's side of the connection is killed (an admin's KILL, a
	// server restart, a network cut): the server rolls the file back; the
	// import exits 1 and says so; the next run applies it.
	t.Run("connection killed", func(t *testing.T) {
		master, dsn := civiDatabase(t, 0)
		before := dbtest.Checksums(t, master)
		p := f.startImportInto(t, master, dsn)
		id := lockHolder(t, master)
		if id == 0 {
			t.Fatal("no session holds the import lock while the import runs")
		}
		if _, err := master.Exec(fmt.Sprintf("KILL CONNECTION %d", id)); err != nil {
			t.Fatal(err)
		}
		code := p.wait(t)
		stderr := p.stderr.String()
		t.Log(stderr)
		if code != exitcode.Failure || !strings.Contains(stderr, "not applied") {
			t.Fatalf("exit %d, want 1: %s", code, stderr)
		}
		if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
			t.Errorf("stderr is not a clear message: %s", stderr)
		}
		waitRolledBack(t, readUncommitted(t, master))
		dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master))
		f.reimport(t, dsn)
		assertMirrors(t, f.child, master)
	})

	// A lock holder that dies (SIGKILL: no deferred release runs) loses
	// its GET_LOCK with its connection: the next import does not stay
	// locked out (exit 75) for ever.
	t.Run("lock holder dies", func(t *testing.T) {
		master, dsn := civiDatabase(t, 0)
		p := f.startImportInto(t, master, dsn)
		if lockHolder(t, master) == 0 {
			t.Fatal("no session holds the import lock while the import runs")
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait(t)
		deadline := time.Now().Add(30 * time.Second)
		for lockHolder(t, master) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the dead import's lock was never released")
			}
			time.Sleep(20 * time.Millisecond)
		}
		_, stderr, code := runProcess(t, f.bin, "import", "--dsn", dsn, "--map", "civicrm", f.file)
		if code != 0 {
			t.Fatalf("import after the holder died: exit %d: %s", code, stderr)
		}
		assertMirrors(t, f.child, master)
	})
}

// startImportInto starts a real import of the fixture's file into master
// and returns once its transaction holds rows (the contacts, about a
// quarter of the file, are in by then).
func (f *importFixture) startImportInto(t *testing.T, master *sqlx.DB, dsn string) *process {
	t.Helper()
	peek := readUncommitted(t, master)
	p := startProcess(t, f.bin, "import", "--dsn", dsn, "--map", "civicrm", f.file)
	deadline := time.Now().Add(60 * time.Second)
	for dirtyRows(t, peek, "civicrm_address") < 1000 {
		if p.exited() || time.Now().After(deadline) {
			p.cmd.Process.Kill()
			p.wait(t)
			t.Fatalf("the import never got going: %s", p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

// flockBusy reports whether another process holds the export lock.
func flockBusy(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatal(err)
	}
	return true
}

// holdTable locks a child table for writing from another session, so an
// export stops when it comes to read it; unlock lets it go on.
func holdTable(t *testing.T, db *sqlx.DB, table string) (unlock func()) {
	t.Helper()
	// A query of an earlier, killed export may still wait for the previous
	// lock for a moment after its client is gone: waitBlocked must not
	// take it for the next export's.
	waitNoWaiters(t, db)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "LOCK TABLES "+table+" WRITE"); err != nil {
		t.Fatal(err)
	}
	unlock = func() {
		if conn != nil {
			conn.ExecContext(context.Background(), "UNLOCK TABLES")
			conn.Close()
			conn = nil
		}
	}
	t.Cleanup(unlock)
	return unlock
}

// waitNoWaiters waits until no session of db's database waits for a table.
func waitNoWaiters(t *testing.T, db *sqlx.DB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := db.Get(&n, `SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE DB = DATABASE() AND STATE LIKE 'Waiting for table%'`); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions still wait for a table lock", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitBlocked waits until a session of db's database waits for the table
// lock: the export is in the middle of its work.
func waitBlocked(t *testing.T, db *sqlx.DB, p *process) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := db.Get(&n, `SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE DB = DATABASE() AND STATE LIKE 'Waiting for table%'`); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			var states []string
			db.Select(&states, "SELECT CONCAT(IFNULL(DB, ''), ' ', COMMAND, ' ', IFNULL(STATE, ''), ' ', LEFT(IFNULL(INFO, ''), 60)) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()")
			t.Logf("sessions: %q", states)
		}
		if p.exited() || time.Now().After(deadline) {
			p.cmd.Process.Kill()
			p.wait(t)
			t.Fatalf("the export never came to wait for the locked table: %s %s", p.stdout.String(), p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An export interrupted in the middle of its work exits 130 and leaves
// nothing: no file under a pick-up name, no temporary file, the state as
// it was, the lock free. And an export that dies (SIGKILL) holding the
// lock does not keep the next one out: the kernel drops its flock with
// the process. The export is held in the middle by a table lock on the
// child (on the table it reads first), so the signal always lands while
// it works.
func TestExportInterruptedAndKilled(t *testing.T) {
	db, dsn, mapFile := exportChild(t, 2000)
	bin := tributaryBinary(t)
	out := t.TempDir()
	args := []string{"export", "--dsn", dsn, "--prefix", "nyc", "--map", mapFile, "--out", out, "--lag", "0s"}
	if _, stderr, code := runProcess(t, bin, args...); code != 0 {
		t.Fatalf("first export: exit %d: %s", code, stderr)
	}
	statePath := filepath.Join(out, ".tributary-nyc.state")
	lockPath := statePath + ".lock"
	before, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Exec(t, db, "UPDATE contact SET modified = UTC_TIMESTAMP(6)")
	name := syncfile.FileName("nyc", 2, syncfile.ModeIncremental, true)
	tmp := filepath.Join(out, syncfile.TempName(name))

	assertNothingLeft := func(t *testing.T) {
		t.Helper()
		if visible := syncfiletest.Visible(t, out); len(visible) != 1 {
			t.Errorf("visible sync files: %v, want only the first", visible)
		}
		if after, _ := os.ReadFile(statePath); string(after) != string(before) {
			t.Errorf("state changed:\n%s\n%s", before, after)
		}
	}

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			unlock := holdTable(t, db, "contact")
			defer unlock()
			p := startProcess(t, bin, args...)
			waitBlocked(t, db, p)
			if !flockBusy(t, lockPath) {
				t.Error("the running export does not hold its lock")
			}
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code := p.wait(t)
			if code != exitcode.Interrupted || !strings.Contains(p.stderr.String(), "interrupted") {
				t.Fatalf("exit %d, want 130: stdout %q, stderr %q", code, p.stdout.String(), p.stderr.String())
			}
			if p.stdout.Len() != 0 {
				t.Errorf("an interrupted export printed a path: %q", p.stdout.String())
			}
			if _, err := os.Stat(tmp); err == nil {
				t.Error("the temporary file is still there")
			}
			assertNothingLeft(t)
			if flockBusy(t, lockPath) {
				t.Error("the lock is still held after the export exited")
			}
		})
	}

	t.Run("SIGKILL releases the lock", func(t *testing.T) {
		unlock := holdTable(t, db, "contact")
		p := startProcess(t, bin, args...)
		waitBlocked(t, db, p)
		if !flockBusy(t, lockPath) {
			t.Fatal("the running export does not hold its lock")
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait(t)
		if flockBusy(t, lockPath) {
			t.Fatal("the lock of a killed export is still held")
		}
		assertNothingLeft(t)
		unlock()
		stdout, stderr, code := runProcess(t, bin, args...)
		if code != 0 || !strings.HasSuffix(strings.TrimSpace(stdout), name) {
			t.Fatalf("export after the kill: exit %d: %s %s", code, stdout, stderr)
		}
		if _, err := os.Stat(tmp); err == nil {
			t.Error("the killed run's temporary file is still there")
		}
	})
}

// An export that cannot create its file (here its temporary name is taken
// by a directory; a read-only or foreign-owned --out does the same for an
// account that is not root) exits 1, says why, and leaves the state and
// the visible files as they were. (A disk that fills up mid-file is
// TestExportDiskFullExits1.)
func TestExportCannotCreateFileExits1(t *testing.T) {
	db, dsn, mapFile := exportChild(t, 3)
	out := t.TempDir()
	args := []string{"export", "--dsn", dsn, "--prefix", "nyc", "--map", mapFile, "--out", out, "--lag", "0s", "--no-gzip"}
	if _, stderr, code := execute(t, args...); code != 0 {
		t.Fatalf("first export: exit %d: %s", code, stderr)
	}
	statePath := filepath.Join(out, ".tributary-nyc.state")
	before, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Exec(t, db, "UPDATE contact SET modified = UTC_TIMESTAMP(6)")
	blocked := filepath.Join(out, syncfile.TempName(syncfile.FileName("nyc", 2, syncfile.ModeIncremental, false)))
	if err := os.MkdirAll(filepath.Join(blocked, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := execute(t, args...)
	if code != exitcode.Failure || !strings.Contains(stderr, "create sync file") {
		t.Fatalf("exit %d, want 1 and a message: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("a failed export printed %q", stdout)
	}
	if after, _ := os.ReadFile(statePath); string(after) != string(before) {
		t.Errorf("state changed:\n%s\n%s", before, after)
	}
	if visible := syncfiletest.Visible(t, out); len(visible) != 1 {
		t.Errorf("visible sync files: %v, want only the first", visible)
	}
}
