package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tributary/internal/database"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/mapping"
)

// masterID returns the master ID of a child row.
func masterID(t *testing.T, master *side, prefix, table string, child int64) int64 {
	t.Helper()
	var id int64
	if err := master.db.Get(&id, "SELECT master_entity_id FROM "+mustTable(t, prefix)+" WHERE entity_table = ? AND child_entity_id = ?", table, child); err != nil {
		t.Fatalf("master ID of %s %d: %v", table, child, err)
	}
	return id
}

func TestLockedPrefixExits75(t *testing.T) {
	h := newHistory(t)
	var dbName string
	if err := h.master.db.Get(&dbName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	conn, err := h.master.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got int
	if err := conn.QueryRowContext(context.Background(), "SELECT GET_LOCK(?, 0)", LockName(dbName, "nyc")).Scan(&got); err != nil || got != 1 {
		t.Fatalf("GET_LOCK: %d %v", got, err)
	}
	before := dbtest.Checksums(t, h.master.db)
	_, err = Run(context.Background(), h.master.db.DB, h.master.s, []string{h.incr}, Options{})
	if exitcode.Code(err) != exitcode.Locked || !errors.Is(err, ErrLocked) {
		t.Fatalf("exit %d (%v), want 75", exitcode.Code(err), err)
	}
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, h.master.db), mapping.NoticesTable)
	if _, err := conn.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", LockName(dbName, "nyc")); err != nil {
		t.Fatal(err)
	}
	importFiles(t, h.master, Options{}, h.incr)
	assertMirrors(t, h.child, h.master)
}

func TestInterruptRollsBack(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedBasic(t, c)
	file := c.export(t, true)
	before := dbtest.Checksums(t, master.db)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := Options{BatchRows: 1, Progress: func(Progress) { cancel() }}
	_, err := Run(ctx, master.db.DB, master.s, []string{file}, opts)
	if exitcode.Code(err) != exitcode.Interrupted {
		t.Fatalf("exit %d (%v), want 130", exitcode.Code(err), err)
	}
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
	importFiles(t, master, Options{}, file)
	assertMirrors(t, c, master)
}

// holdRowLock locks one master row from another session for d.
func holdRowLock(t *testing.T, master *side, table string, id int64, d time.Duration) *sync.WaitGroup {
	t.Helper()
	tx, err := master.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("SELECT id FROM "+table+" WHERE id = ? FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(d)
		tx.Rollback()
	}()
	return &wg
}

func TestLockWaitTimeoutRetries(t *testing.T) {
	h := newHistory(t)
	id := masterID(t, h.master, "nyc", "contact", 2) // updated by h.incr
	wg := holdRowLock(t, h.master, "contact", id, 2500*time.Millisecond)
	var warnings []string
	res := importFiles(t, h.master, Options{LockWaitTimeout: time.Second, RetryBackoff: 50 * time.Millisecond,
		Warn: func(s string) { warnings = append(warnings, s) }}, h.incr)
	wg.Wait()
	if res[0].Attempts < 2 || len(warnings) == 0 || !strings.Contains(warnings[0], "trying again") {
		t.Errorf("attempts %d, warnings %q: want a retry", res[0].Attempts, warnings)
	}
	assertMirrors(t, h.child, h.master)
}

func TestLockWaitTimeoutGivesUp(t *testing.T) {
	h := newHistory(t)
	id := masterID(t, h.master, "nyc", "contact", 2)
	wg := holdRowLock(t, h.master, "contact", id, 6*time.Second)
	defer wg.Wait()
	before := dbtest.Checksums(t, h.master.db)
	_, err := Run(context.Background(), h.master.db.DB, h.master.s, []string{h.incr},
		Options{LockWaitTimeout: time.Second, Retries: 1, RetryBackoff: 10 * time.Millisecond})
	if exitcode.Code(err) != exitcode.Failure || !strings.Contains(err.Error(), "gave up after 2 attempts") || !database.IsRetryable(err) {
		t.Fatalf("exit %d: %v", exitcode.Code(err), err)
	}
	wg.Wait()
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, h.master.db), mapping.NoticesTable)
}

func TestRebuild(t *testing.T) {
	h := newHistory(t)
	importFiles(t, h.master, Options{}, h.incr, h.incr3)
	old := mappingOf(t, h.master, "nyc")
	full := h.child.export(t, true)
	res := importFiles(t, h.master, Options{Rebuild: true}, full)
	if res[0].Deleted == 0 || res[0].Inserted == 0 {
		t.Errorf("rebuild: %+v", res[0])
	}
	assertMirrors(t, h.child, h.master)
	assertNoStrays(t, h.master, "nyc")
	for key, m := range mappingOf(t, h.master, "nyc") {
		if old[key] == m {
			t.Errorf("%s kept master ID %d through --rebuild", key, m)
		}
	}
	// Rebuilding again from the same (latest) file is allowed.
	importFiles(t, h.master, Options{Rebuild: true}, full)
	assertMirrors(t, h.child, h.master)
	// Without a full file, --rebuild is a usage error.
	_, err := Run(context.Background(), h.master.db.DB, h.master.s, []string{h.incr3}, Options{Rebuild: true})
	if exitcode.Code(err) != exitcode.Usage {
		t.Errorf("--rebuild with an incremental file: exit %d (%v)", exitcode.Code(err), err)
	}
}

// A mapped row that vanished from the master is inserted again, remapped,
// and the import warns.
func TestMissingMasterRowReinserted(t *testing.T) {
	h := newHistory(t)
	importFiles(t, h.master, Options{}, h.incr, h.incr3)
	gone := masterID(t, h.master, "nyc", "relationship", 1)
	dbtest.Exec(t, h.master.db, fmt.Sprintf("DELETE FROM relationship WHERE id = %d", gone))
	dbtest.Exec(t, h.child.db, fmt.Sprintf("UPDATE relationship SET kind = 'cousin', modified_date = '%s' WHERE id = 1", stampFor(h.child)))
	var warnings []string
	importFiles(t, h.master, Options{Warn: func(s string) { warnings = append(warnings, s) }}, h.child.exportCovering(t, h.child.until)...)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "no longer exists on the master; inserting it again") {
		t.Errorf("warnings: %q", warnings)
	}
	if now := masterID(t, h.master, "nyc", "relationship", 1); now == gone {
		t.Error("not remapped")
	}
	assertMirrors(t, h.child, h.master)
}

// Tiny batches and a tiny ID cache exercise every batch boundary: a row
// referencing a row of the previous batch, the cache starting over.
func TestTinyBatchesAndCache(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedBasic(t, c)
	m := &mutator{t: t, c: c, rng: newRand(7)}
	m.stamp = "2001-01-01 00:00:00"
	m.round(60)
	importFiles(t, master, Options{BatchRows: 2, CacheLimit: 3}, c.export(t, true))
	assertMirrors(t, c, master)
	m.stamp = stampFor(c)
	m.round(40)
	importFiles(t, master, Options{BatchRows: 3, CacheLimit: 5}, c.exportCovering(t, c.until)...)
	assertMirrors(t, c, master)
	assertNoStrays(t, master, "nyc")
}

// After the first import, an account with only SELECT, INSERT, UPDATE and
// DELETE on the database can import.
func TestLeastPrivilegeAccount(t *testing.T) {
	h := newHistory(t)
	var dbName string
	if err := h.master.db.Get(&dbName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	user, pass := "trib_imp_"+hex.EncodeToString(b), "pw-"+hex.EncodeToString(b)
	dbtest.Exec(t, h.master.db,
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, pass),
		fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON %s.* TO '%s'@'%%'", database.QuoteIdent(dbName), user))
	t.Cleanup(func() { h.master.db.Exec(fmt.Sprintf("DROP USER '%s'@'%%'", user)) })
	cfg := dbtest.ServerConfig(t).Clone()
	cfg.User, cfg.Passwd, cfg.DBName = user, pass, dbName
	src := database.Source{Role: "master", DSN: cfg.FormatDSN()}
	full, err := src.Config()
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(context.Background(), full)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	limited := &side{db: db, s: h.master.s}
	importFiles(t, limited, Options{}, h.incr, h.incr3)
	importFiles(t, limited, Options{Rebuild: true}, h.child.export(t, true))
	assertMirrors(t, h.child, h.master)
}

// A child that deletes a row and makes a new one with the same unique
// value in one window (an address removed and added again, a tag
// recreated) cannot be applied upserts-first: the import applies it once
// more with its deletions first.
func TestUniqueValueReplacedInOneWindow(t *testing.T) {
	h := newHistory(t)
	importFiles(t, h.master, Options{}, h.incr, h.incr3)
	for _, db := range []*side{h.master, h.child.side} {
		dbtest.Exec(t, db.db, `ALTER TABLE email ADD UNIQUE KEY ui_contact_email (contact_id, email)`, `ALTER TABLE tag ADD UNIQUE KEY ui_name (name)`)
	}
	stamp := stampFor(h.child)
	dbtest.Exec(t, h.child.db,
		`DELETE FROM email WHERE id = 1`,
		`INSERT INTO email (id, contact_id, email) VALUES (50, 1, 'ann@example.org')`,
		`UPDATE contact SET modified_date = '`+stamp+`' WHERE id = 1`,
		`DELETE FROM tag WHERE id = 2`,
		`INSERT INTO tag (id, name) VALUES (9, 'leaf')`)
	var warnings []string
	res := importFiles(t, h.master, Options{Warn: func(s string) { warnings = append(warnings, s) }}, h.child.exportCovering(t, h.child.until)...)
	// The file's deletions touch no row it carries, so they run before its
	// upserts (pre-deletions) and the file goes in at the first attempt.
	last := res[len(res)-1]
	if last.Attempts != 1 || len(warnings) != 0 {
		t.Errorf("attempts %d, warnings %q", last.Attempts, warnings)
	}
	assertMirrors(t, h.child, h.master)
	assertNoStrays(t, h.master, "nyc")
}
