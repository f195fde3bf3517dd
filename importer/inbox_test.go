package importer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/mapping"
)

// seed fills a child of the test schema with a few rows.
func seed(t *testing.T, c *child) {
	t.Helper()
	for _, stmt := range []string{
		`INSERT INTO contact (id, display_name, modified_date) VALUES (1, 'Ann', NOW(6)), (2, 'Bob', NOW(6)), (3, 'Cy', NOW(6))`,
		`INSERT INTO email (contact_id, email) VALUES (1, 'a@example.org'), (2, 'b@example.org')`,
		`INSERT INTO note (entity_table, entity_id, body, modified_date) VALUES ('contact', 2, 'hello', NOW(6))`,
	} {
		if _, err := c.db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
}

// ship moves a file into the inbox as rsync does: under a dot-name first,
// renamed when complete.
func ship(t *testing.T, file, inbox string) string {
	t.Helper()
	dest := filepath.Join(inbox, filepath.Base(file))
	tmp := filepath.Join(inbox, "."+filepath.Base(file)+".XXXXXX")
	if err := os.WriteFile(tmp, readFile(t, file), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		t.Fatal(err)
	}
	return dest
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func inboxNames(files []InboxFile) []string {
	var out []string
	for _, f := range files {
		out = append(out, filepath.Base(f.Path))
	}
	return out
}

// TestInboxAppliesInOrderAndLeavesTempFiles: files of two prefixes are
// applied in (prefix, sequence) order and moved to done/; dotfiles, *.tmp
// and other names stay where they are, untouched.
func TestInboxAppliesInOrderAndLeavesTempFiles(t *testing.T) {
	master := newSide(t)
	nyc, sf := newChild(t, "nyc"), newChild(t, "sf")
	seed(t, nyc)
	seed(t, sf)
	inbox := t.TempDir()
	n1 := ship(t, nyc.export(t, true), inbox)
	if _, err := nyc.db.Exec(`UPDATE contact SET display_name = 'Ann B', modified_date = NOW(6) WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	var nycLater []string
	for _, f := range nyc.exportCovering(t, dbNow(t, nyc.side)) {
		nycLater = append(nycLater, ship(t, f, inbox))
	}
	s1 := ship(t, sf.export(t, true), inbox)
	leave := map[string]string{
		".nyc-0000000099-incr.jsonl.gz.Ab12Cd": "rsync in flight",
		"nyc-0000000099-incr.jsonl.tmp":        "scp in flight",
		".tributary-nyc.state":                 "a state file",
		"notes.txt":                            "not a sync file",
		"nyc-99-incr.jsonl":                    "not a contract name",
	}
	for name, content := range leave {
		if err := os.WriteFile(filepath.Join(inbox, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	files, err := RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{})
	if err != nil {
		t.Fatalf("inbox: %v", err)
	}
	want := append(append([]string{filepath.Base(n1)}, baseNames(nycLater)...), filepath.Base(s1))
	if got := inboxNames(files); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("applied %v, want %v", got, want)
	}
	for _, f := range files {
		if f.Err != nil || f.Waiting || f.MovedTo != filepath.Join(inbox, DoneDir, filepath.Base(f.Path)) || !exists(f.MovedTo) || exists(f.Path) {
			t.Errorf("%s: err %v, waiting %t, moved to %q", f.Path, f.Err, f.Waiting, f.MovedTo)
		}
	}
	for name, content := range leave {
		b, err := os.ReadFile(filepath.Join(inbox, name))
		if err != nil || string(b) != content {
			t.Errorf("%s was touched: %v", name, err)
		}
	}
	assertMirrors(t, nyc, master)
	assertMirrors(t, sf, master)

	// An empty inbox (only the files to leave) is a quiet success.
	files, err = RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{})
	if err != nil || len(files) != 0 {
		t.Errorf("second run: %v %v", files, err)
	}

	// A file applied before that arrives again goes to done/ under a
	// numbered name; the first copy is kept.
	again := ship(t, filepath.Join(inbox, DoneDir, filepath.Base(n1)), inbox)
	files, err = RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{})
	if err != nil || len(files) != 1 || !files[0].Skipped || files[0].MovedTo != filepath.Join(inbox, DoneDir, filepath.Base(again)+".2") {
		t.Errorf("re-sent file: %+v %v", files, err)
	}
}

func baseNames(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	return out
}

// TestInboxFailedPrefixStopsWhileOthersGoOn: a damaged file goes to
// failed/ with a .why saying what, when and what to do; the prefix's later
// file waits in the inbox; the other prefix is applied; exit 3.
func TestInboxFailedPrefixStopsWhileOthersGoOn(t *testing.T) {
	master := newSide(t)
	nyc, sf := newChild(t, "nyc"), newChild(t, "sf")
	seed(t, nyc)
	seed(t, sf)
	inbox := t.TempDir()
	n1 := ship(t, nyc.export(t, true), inbox)
	n2 := ship(t, nyc.export(t, false), inbox)
	n3 := ship(t, nyc.export(t, false), inbox)
	s1 := ship(t, sf.export(t, true), inbox)
	// Damage the second file: cut off its trailer, as a transfer that
	// copied it too early would.
	b := readFile(t, n2)
	if err := os.WriteFile(n2, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}

	files, err := RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{})
	if code := exitcode.Code(err); code != exitcode.Rejected {
		t.Fatalf("exit %d, want 3: %v", code, err)
	}
	done, failed := filepath.Join(inbox, DoneDir), filepath.Join(inbox, FailedDir)
	for _, path := range []string{filepath.Join(done, filepath.Base(n1)), filepath.Join(done, filepath.Base(s1)), filepath.Join(failed, filepath.Base(n2)), n3} {
		if !exists(path) {
			t.Errorf("%s is missing", path)
		}
	}
	for _, path := range []string{n1, n2, s1, filepath.Join(done, filepath.Base(n3))} {
		if exists(path) {
			t.Errorf("%s should have moved", path)
		}
	}
	why := string(readFile(t, filepath.Join(failed, filepath.Base(n2)+".why")))
	for _, want := range []string{"file:    " + filepath.Base(n2), "time:    20", "rejected (exit code 3)", "error:", "what to do:", "tributary export --full"} {
		if !strings.Contains(why, want) {
			t.Errorf(".why lacks %q:\n%s", want, why)
		}
	}
	var waiting int
	for _, f := range files {
		if f.Waiting {
			waiting++
			if f.Path != n3 {
				t.Errorf("%s waits, want only %s", f.Path, n3)
			}
		}
	}
	if waiting != 1 {
		t.Errorf("%d files wait, want 1", waiting)
	}
	assertMirrors(t, sf, master)

	// The admin repairs with a full export. The next run meets the waiting
	// file first, which now leaves a gap: it goes to failed/ and the full
	// file waits; the run after applies the full file.
	full := ship(t, nyc.export(t, true), inbox)
	_, err = RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{})
	if code := exitcode.Code(err); code != exitcode.Rejected || !errors.Is(err, ErrGap) || !exists(filepath.Join(failed, filepath.Base(n3)+".why")) || !exists(full) {
		t.Errorf("after the repair: exit %d: %v", code, err)
	}
	if _, err = RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{}); err != nil || exists(full) {
		t.Errorf("full file: %v", err)
	}
	assertMirrors(t, nyc, master)
}

// TestInboxBusyLockLeavesFiles: a prefix whose lock another import holds
// keeps its files in the inbox (exit 75); other prefixes are applied; the
// next run, with the lock free, applies them.
func TestInboxBusyLockLeavesFiles(t *testing.T) {
	master := newSide(t)
	nyc, sf := newChild(t, "nyc"), newChild(t, "sf")
	seed(t, nyc)
	seed(t, sf)
	inbox := t.TempDir()
	n1 := ship(t, nyc.export(t, true), inbox)
	s1 := ship(t, sf.export(t, true), inbox)
	var dbName string
	if err := master.db.Get(&dbName, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	conn, err := master.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "DO GET_LOCK(?, 0)", LockName(dbName, "nyc")); err != nil {
		t.Fatal(err)
	}
	files, err := RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{})
	if code := exitcode.Code(err); code != exitcode.Locked {
		t.Fatalf("exit %d, want 75: %v", code, err)
	}
	if !exists(n1) || exists(s1) || !exists(filepath.Join(inbox, DoneDir, filepath.Base(s1))) || exists(filepath.Join(inbox, FailedDir, filepath.Base(n1))) {
		t.Errorf("want nyc's file in the inbox and sf's in done/: %+v", files)
	}
	if _, err := conn.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", LockName(dbName, "nyc")); err != nil {
		t.Fatal(err)
	}
	if _, err := RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{}); err != nil {
		t.Fatalf("next run: %v", err)
	}
	if exists(n1) {
		t.Error("the next run left nyc's file in the inbox")
	}
	assertMirrors(t, nyc, master)
}

func TestInboxRefusesRebuild(t *testing.T) {
	_, err := RunInbox(context.Background(), nil, nil, t.TempDir(), Options{Rebuild: true})
	if exitcode.Code(err) != exitcode.Usage {
		t.Errorf("exit %d: %v", exitcode.Code(err), err)
	}
}

// TestInboxDirsCheckedFirst: when files cannot move into done/ or failed/,
// nothing is applied (the master byte-identical, no ledger row), the file
// stays in the inbox, and the error names the directory (exit 2: the inbox
// is set up wrong; no file is at fault). Once repaired, the file applies.
func TestInboxDirsCheckedFirst(t *testing.T) {
	for _, tt := range []struct {
		name  string
		block func(t *testing.T, inbox string) string // returns the blocked path
	}{
		{"done is a plain file", func(t *testing.T, inbox string) string {
			return plainFile(t, filepath.Join(inbox, DoneDir))
		}},
		{"failed is a plain file", func(t *testing.T, inbox string) string {
			return plainFile(t, filepath.Join(inbox, FailedDir))
		}},
		{"done is a dangling symlink", func(t *testing.T, inbox string) string {
			path := filepath.Join(inbox, DoneDir)
			if err := os.Symlink(filepath.Join(t.TempDir(), "gone"), path); err != nil {
				t.Fatal(err)
			}
			return path
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			master := newSide(t)
			nyc := newChild(t, "nyc")
			seed(t, nyc)
			inbox := t.TempDir()
			file := ship(t, nyc.export(t, true), inbox)
			blocked := tt.block(t, inbox)
			before := dbtest.Checksums(t, master.db)

			files, err := RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{})
			if code := exitcode.Code(err); code != exitcode.Usage || !strings.Contains(fmt.Sprint(err), blocked) || !strings.Contains(fmt.Sprint(err), "nothing was applied") {
				t.Fatalf("exit %d, want 2 naming %s: %v", code, blocked, err)
			}
			if len(files) != 0 || !exists(file) {
				t.Errorf("files %+v; the sync file must stay in the inbox", files)
			}
			dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
			if n := ledgerRows(t, master); n != 0 {
				t.Errorf("the ledger holds %d rows, want none", n)
			}

			// Repaired, the next run applies the file and moves it.
			if err := os.Remove(blocked); err != nil {
				t.Fatal(err)
			}
			if _, err := RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{}); err != nil || exists(file) {
				t.Fatalf("after the repair: %v (file still in the inbox: %t)", err, exists(file))
			}
			assertMirrors(t, nyc, master)
		})
	}
}

func plainFile(t *testing.T, path string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ledgerRows counts the ledger's rows; a ledger not made yet holds none.
func ledgerRows(t *testing.T, master *side) int {
	t.Helper()
	var tables int
	if err := master.db.Get(&tables, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tributary_ledger'"); err != nil {
		t.Fatal(err)
	}
	if tables == 0 {
		return 0
	}
	var n int
	if err := master.db.Get(&n, "SELECT COUNT(*) FROM tributary_ledger"); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInboxSaysWhichNamesItLeaves: files that look like sync files but are
// not named as one are left alone, and one warning per run names them;
// other files (notes, dotfiles, files in flight) pass without a word.
func TestInboxSaysWhichNamesItLeaves(t *testing.T) {
	master := newSide(t)
	nyc := newChild(t, "nyc")
	seed(t, nyc)
	inbox := t.TempDir()
	file := ship(t, nyc.export(t, true), inbox)
	odd := []string{"nyc-1-full.jsonl.gz", "x (1).jsonl.gz"}
	quiet := []string{"notes.txt", ".nyc-0000000002-incr.jsonl.gz.Ab12Cd", "nyc-0000000002-incr.jsonl.tmp",
		"nyc-0000000009-incr.jsonl.gz.why"} // beside a file --max-delete held
	for _, name := range append(append([]string{}, odd...), quiet...) {
		if err := os.WriteFile(filepath.Join(inbox, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var warnings []string
	opts := Options{Warn: func(msg string) { warnings = append(warnings, msg) }}
	if _, err := RunInbox(context.Background(), master.db.DB, master.s, inbox, opts); err != nil || exists(file) {
		t.Fatalf("inbox: %v", err)
	}
	var said []string
	for _, w := range warnings {
		if strings.Contains(w, "not named like sync files") {
			said = append(said, w)
		}
	}
	if len(said) != 1 || !strings.Contains(said[0], "2 file(s)") {
		t.Fatalf("want one warning naming 2 files, got %q", warnings)
	}
	for _, name := range odd {
		if !strings.Contains(said[0], name) || !exists(filepath.Join(inbox, name)) {
			t.Errorf("%s: not named in %q, or moved", name, said[0])
		}
	}
	for _, name := range quiet {
		if strings.Contains(said[0], name) {
			t.Errorf("%s is named in %q", name, said[0])
		}
	}
}
