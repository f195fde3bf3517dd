package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"tributary/internal/database"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/mapping"
)

// deadlockSetup is a master that applied a child's full file, and the
// child's next file, which updates contacts 1 and 2, one row per
// statement (BatchRows 1), contact 1 first.
//
// The deadlock: another session (the blocker) locks master contact 2, so
// the import, having updated contact 1, waits for it in the middle of the
// file; the blocker then asks for contact 1. Each waits for the other:
// InnoDB rolls back the lighter transaction, and ballast rows make that
// the import.
type deadlockSetup struct {
	h        *history
	file     string
	first    int64 // master ID of the contact the file changes first
	second   int64 // master ID of the contact the file changes next
	lockName string
}

func newDeadlockSetup(t *testing.T) *deadlockSetup {
	t.Helper()
	h := &history{master: newSide(t), child: newChild(t, "nyc")}
	seedBasic(t, h.child)
	h.full = h.child.export(t, true)
	importFiles(t, h.master, Options{}, h.full)
	dbtest.Exec(t, h.child.db, fmt.Sprintf(`UPDATE contact SET display_name = CONCAT(display_name, ' (moved)'), modified_date = '%s' WHERE id IN (1, 2)`, stampFor(h.child)))
	files := h.child.exportCovering(t, h.child.until)
	importFiles(t, h.master, Options{}, files[:len(files)-1]...)
	d := &deadlockSetup{h: h, file: files[len(files)-1]}
	if !strings.Contains(string(readFile(t, d.file)), "(moved)") {
		t.Fatal("the file lacks the contact updates")
	}
	d.first = masterID(t, h.master, "nyc", "contact", 1)
	d.second = masterID(t, h.master, "nyc", "contact", 2)
	var dbName string
	if err := h.master.db.Get(&dbName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	d.lockName = LockName(dbName, "nyc")
	dbtest.Exec(t, h.master.db, `CREATE TABLE ballast (id INT UNSIGNED NOT NULL PRIMARY KEY)`)
	return d
}

// blocker is the other session's transaction: heavy with ballast, it
// holds the contact the import changes second.
type blocker struct {
	t    *testing.T
	conn *sql.Conn
}

func (d *deadlockSetup) block(t *testing.T) *blocker {
	t.Helper()
	ctx := context.Background()
	conn, err := d.h.master.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := &blocker{t: t, conn: conn}
	t.Cleanup(b.release) // a failing test must not leave the import blocked
	for _, stmt := range []string{
		"BEGIN",
		"INSERT INTO ballast (id) SELECT seq FROM seq_1_to_5000",
		fmt.Sprintf("SELECT id FROM contact WHERE id = %d FOR UPDATE", d.second),
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return b
}

// waitForLockWait returns once the import's connection (the holder of the
// prefix's lock) has been waiting in an UPDATE of contact for a while: the
// one row it can wait for is the blocker's. (PROCESSLIST, because InnoDB
// serves INNODB_TRX from a cache that can show an earlier attempt's wait.)
func (d *deadlockSetup) waitForLockWait(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var info sql.NullString
		err := d.h.master.db.Get(&info, "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK(?) AND TIME_MS > 300", d.lockName)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		if strings.HasPrefix(info.String, "UPDATE `contact`") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import never came to wait for the blocked contact (it runs %q)", info.String)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// closeCycle waits until the import waits for the blocked contact, then
// asks for the contact the import has already changed: a real deadlock,
// which the server ends by rolling the import back. The blocker's
// statement then goes on.
func (d *deadlockSetup) closeCycle(b *blocker) {
	t := b.t
	t.Helper()
	d.waitForLockWait(t)
	start := time.Now()
	if _, err := b.conn.ExecContext(context.Background(), fmt.Sprintf("SELECT id FROM contact WHERE id = %d FOR UPDATE", d.first)); err != nil {
		t.Fatalf("the test's own session was chosen as the deadlock victim (want the import): %v", err)
	}
	t.Logf("the blocker got the contact after %s", time.Since(start).Round(time.Millisecond))
}

func (b *blocker) release() {
	if b.conn == nil {
		return
	}
	_, _ = b.conn.ExecContext(context.Background(), "ROLLBACK")
	b.conn.Close()
	b.conn = nil
}

// importAsync runs the import in the background; before each retry its
// Warn hook hands control to the test (retry) and waits for it to answer.
func (d *deadlockSetup) importAsync(t *testing.T, opts Options) (retry chan string, resume chan struct{}, done chan error, results *[]Result) {
	retry, resume, done = make(chan string), make(chan struct{}), make(chan error, 1)
	results = new([]Result)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) }) // a failed test lets the import finish
	opts.Warn = func(msg string) {
		if !strings.Contains(msg, "trying again") {
			t.Log(msg)
			return
		}
		select {
		case retry <- msg:
		case <-stop:
			return
		}
		select {
		case <-resume:
		case <-stop:
		}
	}
	go func() {
		res, err := Run(context.Background(), d.h.master.db.DB, d.h.master.s, []string{d.file}, opts)
		*results = res
		done <- err
	}()
	return retry, resume, done, results
}

// A real deadlock with another session on the master (error 1213): the
// server rolls the import's transaction back, and the import applies the
// file again from the start, this time successfully.
func TestDeadlockRetriedThenApplied(t *testing.T) {
	d := newDeadlockSetup(t)
	b := d.block(t)
	retry, resume, done, results := d.importAsync(t, Options{BatchRows: 1, Retries: 3, RetryBackoff: 10 * time.Millisecond})
	d.closeCycle(b)
	var msg string
	select {
	case msg = <-retry:
	case err := <-done:
		t.Fatalf("the import ended without a retry: %v", err)
	}
	if !strings.Contains(msg, "1213") || !strings.Contains(msg, "trying again") {
		t.Errorf("retry warning: %s", msg)
	}
	b.release()
	close(resume)
	if err := <-done; err != nil {
		t.Fatalf("import after the deadlock: %v", err)
	}
	if res := *results; len(res) != 1 || res[0].Attempts != 2 {
		t.Errorf("results %+v, want one file applied at the second attempt", res)
	}
	assertMirrors(t, d.h.child, d.h.master)
}

// A deadlock at every attempt: after Retries more tries the import gives
// up with exit 1 and a message that says why, and the master is unchanged.
func TestDeadlockEveryAttemptGivesUp(t *testing.T) {
	d := newDeadlockSetup(t)
	before := dbtest.Checksums(t, d.h.master.db)
	b := d.block(t)
	retry, resume, done, _ := d.importAsync(t, Options{BatchRows: 1, Retries: 2, RetryBackoff: 10 * time.Millisecond})
	for attempt := 1; attempt <= 3; attempt++ {
		d.closeCycle(b)
		b.release()
		if attempt == 3 {
			break
		}
		select {
		case msg := <-retry:
			t.Logf("attempt %d: %s", attempt, msg)
		case err := <-done:
			t.Fatalf("attempt %d: the import ended without a retry: %v", attempt, err)
		}
		b = d.block(t) // before the import tries again
		resume <- struct{}{}
	}
	err := <-done
	if exitcode.Code(err) != exitcode.Failure || !database.IsRetryable(err) || !strings.Contains(err.Error(), "gave up after 3 attempts, each ended by a deadlock or lock wait timeout") {
		t.Fatalf("exit %d: %v", exitcode.Code(err), err)
	}
	t.Log(err)
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, d.h.master.db), mapping.NoticesTable)
}
