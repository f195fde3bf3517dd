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

// A transaction the server rolls back while the session goes on, because
// an error was missed, must commit nothing: the statements after the
// rollback must not commit on their own, and the ledger check before
// COMMIT must find the transaction broken. The test misses the deadlock
// error on purpose, as a bug in some future statement would.
func TestLostTransactionCommitsNothing(t *testing.T) {
	ctx := context.Background()
	master := newSide(t)
	dbtest.Exec(t, master.db,
		`CREATE TABLE victim (id INT PRIMARY KEY, n INT NOT NULL DEFAULT 0)`,
		`INSERT INTO victim (id) VALUES (1), (2)`,
		`CREATE TABLE after_rollback (id INT PRIMARY KEY)`,
		`CREATE TABLE ballast (id INT PRIMARY KEY)`)
	sess, err := openSession(ctx, master.db.DB, "nyc", &Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.close(ctx)
	if err := sess.ensure(ctx, false); err != nil {
		t.Fatal(err)
	}
	var ourID int64
	if err := sess.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&ourID); err != nil {
		t.Fatal(err)
	}
	entry := &mapping.LedgerEntry{Prefix: "nyc", Stream: "s", Sequence: 1, Mode: "full", Until: time.Now(), FileName: "f"}
	err = database.WithTx(ctx, sess.conn, nil, func(tx *sql.Tx) error {
		claim, err := mapping.ClaimLedger(ctx, tx, entry, false)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE victim SET n = 1 WHERE id = 1"); err != nil {
			return err
		}
		if err := deadlockVictim(t, master, tx, ourID); err == nil {
			t.Fatal("the transaction was not chosen as the deadlock victim")
		} // and the error is ignored, as a buggy caller would
		if _, err := tx.ExecContext(ctx, "INSERT INTO after_rollback (id) VALUES (1)"); err != nil {
			return err
		}
		return claim.Confirm(ctx, tx, "sha", 1, 1, 0, 0)
	})
	if !errors.Is(err, mapping.ErrTransactionLost) {
		t.Fatalf("commit after a lost transaction: %v, want ErrTransactionLost", err)
	}
	for _, q := range []string{
		"SELECT COUNT(*) FROM after_rollback",
		"SELECT COUNT(*) FROM victim WHERE n <> 0",
		"SELECT COUNT(*) FROM tributary_ledger",
	} {
		var n int
		if err := master.db.Get(&n, q); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s = %d after the lost transaction, want 0", q, n)
		}
	}
}

// deadlockVictim makes the server roll back tx's transaction: another,
// heavier session takes victim row 2, tx asks for it, and the other asks
// for row 1, which tx holds. It returns tx's error (a 1213).
func deadlockVictim(t *testing.T, master *side, tx *sql.Tx, ourID int64) error {
	t.Helper()
	ctx := context.Background()
	other, err := master.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, stmt := range []string{"BEGIN", "INSERT INTO ballast (id) SELECT seq FROM seq_1_to_5000", "SELECT id FROM victim WHERE id = 2 FOR UPDATE"} {
		if _, err := other.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	defer other.ExecContext(ctx, "ROLLBACK")
	ours := make(chan error, 1)
	go func() {
		_, err := tx.ExecContext(ctx, "SELECT id FROM victim WHERE id = 2 FOR UPDATE")
		ours <- err
	}()
	waitRunning(t, master, ourID, "SELECT id FROM victim")
	if _, err := other.ExecContext(ctx, "SELECT id FROM victim WHERE id = 1 FOR UPDATE"); err != nil {
		t.Fatalf("the other session was chosen as the victim: %v", err)
	}
	err = <-ours
	if database.ErrorNumber(err) != 1213 {
		t.Fatalf("want a deadlock (1213), got %v", err)
	}
	return err
}

// waitRunning returns once connection id has been running a statement that
// starts with prefix for a while (it waits for a lock).
func waitRunning(t *testing.T, master *side, id int64, prefix string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := master.db.Get(&n, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ? AND TIME_MS > 200 AND INFO LIKE CONCAT(?, '%')", id, prefix); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("connection %d never came to wait in %q", id, prefix)
}

// KILL QUERY from another session while the import waits at three points
// of a file's transaction (its first statement, the ledger claim; an
// update of the first pass; a deletion): each interrupted import fails,
// the master is unchanged, and the file then applies.
func TestKillQueryAtEachPoint(t *testing.T) {
	h := &history{master: newSide(t), child: newChild(t, "nyc")}
	seedMany(t, h.child, 50)
	importFiles(t, h.master, Options{}, h.child.export(t, true))
	// The next full file updates contact 10 and deletes contact 21.
	dbtest.Exec(t, h.child.db,
		`UPDATE contact SET display_name = 'changed' WHERE id = 10`,
		`DELETE FROM note WHERE entity_id = 21`,
		`DELETE FROM contact WHERE id = 21`)
	files := []string{h.child.export(t, true)}
	before := dbtest.Checksums(t, h.master.db)
	var dbName string
	if err := h.master.db.Get(&dbName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	lock := LockName(dbName, "nyc")
	for _, point := range []struct{ name, hold, waits string }{
		{"ledger claim", "SELECT * FROM tributary_ledger FOR UPDATE", "INSERT INTO `tributary_ledger`"},
		{"first pass", fmt.Sprintf("SELECT id FROM contact WHERE id = %d FOR UPDATE", masterID(t, h.master, "nyc", "contact", 10)), "UPDATE `contact`"},
		// contact 21's row is touched only by the deletions (its references
		// are cleared, then it is deleted)
		{"deletions", fmt.Sprintf("SELECT id FROM contact WHERE id = %d FOR UPDATE", masterID(t, h.master, "nyc", "contact", 21)), ""},
	} {
		t.Run(point.name, func(t *testing.T) {
			ctx := context.Background()
			holder, err := h.master.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			for _, stmt := range []string{"BEGIN", point.hold} {
				if _, err := holder.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan error, 1)
			go func() {
				_, err := Run(ctx, h.master.db.DB, h.master.s, files, Options{BatchRows: 1, Retries: 1, RetryBackoff: time.Millisecond})
				done <- err
			}()
			id := lockHolder(t, h.master, lock)
			waitRunning(t, h.master, id, point.waits)
			if _, err := h.master.db.Exec(fmt.Sprintf("KILL QUERY %d", id)); err != nil {
				t.Fatal(err)
			}
			err = <-done
			if _, rerr := holder.ExecContext(ctx, "ROLLBACK"); rerr != nil {
				t.Fatal(rerr)
			}
			if exitcode.Code(err) != exitcode.Failure || !strings.Contains(err.Error(), "interrupted") {
				t.Fatalf("exit %d: %v, want 1 and the statement interrupted", exitcode.Code(err), err)
			}
			t.Log(err)
			dbtest.AssertSameTables(t, before, dbtest.Checksums(t, h.master.db), mapping.NoticesTable)
		})
	}
	importFiles(t, h.master, Options{}, files...)
	assertMirrors(t, h.child, h.master)
}

// lockHolder waits for a connection to take lock and returns its ID.
func lockHolder(t *testing.T, master *side, lock string) int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if id := dbtest.LockHolder(t, master.db, lock); id != 0 {
			return id
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("nobody took lock %s", lock)
	return 0
}

// KILL QUERY again and again from another session, starting at several
// moments of a full import: whatever statement each kill hits, the master
// ends either unchanged or equal to the child, never in between.
func TestKillQueryAtRandomPoints(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedMany(t, c, 1500)
	file := c.export(t, true)
	before := dbtest.Checksums(t, master.db)
	var dbName string
	if err := master.db.Get(&dbName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	lock := LockName(dbName, "nyc")
	failed := 0
	for _, delay := range []time.Duration{0, 100 * time.Millisecond, 400 * time.Millisecond, 900 * time.Millisecond} {
		stop := make(chan struct{})
		kills := make(chan int, 1)
		go func() { kills <- killQueriesOf(master, lock, delay, stop) }()
		_, err := Run(context.Background(), master.db.DB, master.s, []string{file}, Options{BatchRows: 1})
		close(stop)
		n := <-kills
		if err == nil {
			t.Logf("killing from %s on: applied despite %d kills (none hit a statement)", delay, n)
			assertMirrors(t, c, master)
			return
		}
		failed++
		t.Logf("killing from %s on: %d kills: %v", delay, n, err)
		dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
	}
	if failed == 0 {
		t.Fatal("no kill interrupted the import")
	}
	importFiles(t, master, Options{}, file)
	assertMirrors(t, c, master)
}

// killQueriesOf kills, after delay and then every few milliseconds, the
// statement the holder of lock is running, until stop; it returns how many
// KILL QUERY it sent.
func killQueriesOf(master *side, lock string, delay time.Duration, stop <-chan struct{}) int {
	kills := 0
	var id sql.NullInt64
	for !id.Valid {
		select {
		case <-stop:
			return kills
		case <-time.After(time.Millisecond):
		}
		_ = master.db.Get(&id, "SELECT IS_USED_LOCK(?)", lock)
	}
	time.Sleep(delay)
	for {
		select {
		case <-stop:
			return kills
		case <-time.After(2 * time.Millisecond):
		}
		if _, err := master.db.Exec(fmt.Sprintf("KILL QUERY %d", id.Int64)); err == nil {
			kills++
		}
	}
}

// seedMany fills a child with n contacts, an email each and a note on
// every third: a file of many statements when applied a row at a time.
func seedMany(t *testing.T, c *child, n int) {
	t.Helper()
	dbtest.Exec(t, c.db,
		fmt.Sprintf(`INSERT INTO contact (id, display_name, modified_date) SELECT seq, CONCAT('contact ', seq), NOW(6) FROM seq_1_to_%d`, n),
		fmt.Sprintf(`INSERT INTO email (contact_id, email) SELECT seq, CONCAT('c', seq, '@example.org') FROM seq_1_to_%d`, n),
		fmt.Sprintf(`INSERT INTO note (entity_table, entity_id, body, modified_date) SELECT 'contact', seq, 'hello', NOW(6) FROM seq_1_to_%d WHERE seq %% 3 = 0`, n))
}

// Interrupted while a statement waits for a table another session has
// locked: the import kills its own server-side session, so by the time it
// returns (130) the prefix's lock is free and nothing of it waits on.
func TestInterruptKillsServerSideWork(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedMany(t, c, 50)
	file := c.export(t, true)
	before := dbtest.Checksums(t, master.db)
	ctx := context.Background()
	holder, err := master.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "LOCK TABLES note WRITE"); err != nil {
		t.Fatal(err)
	}
	var dbName string
	if err := master.db.Get(&dbName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	lock := LockName(dbName, "nyc")
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := Run(runCtx, master.db.DB, master.s, []string{file}, Options{})
		done <- err
	}()
	id := lockHolder(t, master, lock)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var state sql.NullString
		if err := master.db.Get(&state, "SELECT IFNULL(STATE, '') FROM information_schema.PROCESSLIST WHERE ID = ?", id); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(state.String, "Waiting for table") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import never came to wait for the locked table (state %q)", state.String)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	err = <-done
	if exitcode.Code(err) != exitcode.Interrupted {
		t.Fatalf("exit %d (%v), want 130", exitcode.Code(err), err)
	}
	var holderNow sql.NullInt64
	var sessions int
	if err := master.db.Get(&holderNow, "SELECT IS_USED_LOCK(?)", lock); err != nil {
		t.Fatal(err)
	}
	if err := master.db.Get(&sessions, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", id); err != nil {
		t.Fatal(err)
	}
	if holderNow.Valid || sessions != 0 {
		t.Fatalf("after the interrupted import returned, its session %d is still there (%d) holding the lock (%v)", id, sessions, holderNow)
	}
	if _, err := holder.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
		t.Fatal(err)
	}
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
	importFiles(t, master, Options{}, file)
	assertMirrors(t, c, master)
}

// The next run meets the lock of a session the server is still rolling
// back (an interrupted import): it waits for the rollback instead of
// reporting another import (exit 75).
func TestLockOfARollbackIsWaitedFor(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seed(t, c)
	file := c.export(t, true)
	dbtest.Exec(t, master.db, `CREATE TABLE scratch (id INT PRIMARY KEY, pad CHAR(200) NOT NULL)`)
	var dbName string
	if err := master.db.Get(&dbName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	lock := LockName(dbName, "nyc")
	ctx := context.Background()
	victim, err := master.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	var id int64
	if err := victim.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"DO GET_LOCK('" + lock + "', 0)", "BEGIN", "INSERT INTO scratch SELECT seq, 'x' FROM seq_1_to_600000"} {
		if _, err := victim.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := master.db.Exec(fmt.Sprintf("KILL CONNECTION %d", id)); err != nil {
		t.Fatal(err)
	}
	var command string
	if err := master.db.Get(&command, "SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = ?", id); err != nil {
		t.Fatalf("the killed session is gone already (its rollback was too quick for this test): %v", err)
	}
	if command != "Killed" {
		t.Fatalf("the killed session shows %q", command)
	}
	importFiles(t, master, Options{}, file)
	assertMirrors(t, c, master)
}
