package importer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/mapping"
)

// A child emptied (restored from an empty backup, say) must not empty its
// branch: its incremental and its full file are refused, the master stays
// byte-identical, and --max-delete 100% applies them.
func TestEmptiedChildRefused(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedMany(t, c, 300)
	importFiles(t, master, Options{}, c.export(t, true))
	dbtest.Exec(t, c.db, `DELETE FROM note`, `DELETE FROM email`, `DELETE FROM contact`)
	incr := c.export(t, false)
	full := c.export(t, true)
	before := dbtest.Checksums(t, master.db)
	for _, tt := range []struct {
		name string
		file string
		opts Options
	}{
		{"incremental", incr, Options{}},
		{"full", full, Options{}},
		{"dry run", incr, Options{DryRun: true}},
		{"full, limit 50%", full, Options{MaxDelete: mustLimit(t, "50%")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.ApplyAnyway = func(path string) string { return "tributary import --max-delete 100% " + path }
			_, err := Run(t.Context(), master.db.DB, master.s, []string{tt.file}, tt.opts)
			if exitcode.Code(err) != exitcode.Rejected || !errors.Is(err, ErrMassDelete) {
				t.Fatalf("exit %d (%v), want 3 for a mass deletion", exitcode.Code(err), err)
			}
			for _, want := range []string{"300 of the 300 rows of contact (100%)", "300 of the 300 rows of email", "tributary import --max-delete 100% " + tt.file} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message lacks %q: %v", want, err)
				}
			}
			dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
		})
	}
	importFiles(t, master, Options{MaxDelete: mustLimit(t, "100%")}, incr, full)
	assertMirrors(t, c, master)
}

// Owned rows deleted with their owner count in their own table: deleting
// one contact of twenty is no mass deletion of contacts, but its 150
// emails are most of the branch's emails.
func TestOwnedRowsCountTowardTheLimit(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedMany(t, c, 20)
	dbtest.Exec(t, c.db, `INSERT INTO email (contact_id, email) SELECT 1, CONCAT('x', seq, '@example.org') FROM seq_1_to_150`)
	importFiles(t, master, Options{}, c.export(t, true))
	dbtest.Exec(t, c.db, `DELETE FROM note WHERE entity_id = 1`, `DELETE FROM email WHERE contact_id = 1`, `DELETE FROM contact WHERE id = 1`)
	file := c.export(t, false)
	before := dbtest.Checksums(t, master.db)
	_, err := Run(t.Context(), master.db.DB, master.s, []string{file}, Options{})
	if !errors.Is(err, ErrMassDelete) || !strings.Contains(err.Error(), "151 of the 170 rows of email") || strings.Contains(err.Error(), "of contact") {
		t.Fatalf("%v, want a refusal for 151 of 170 emails and none for contacts", err)
	}
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
	importFiles(t, master, Options{MaxDelete: mustLimit(t, "90%")}, file)
	assertMirrors(t, c, master)
}

// --rebuild deletes every row and inserts the file's again; only the rows
// that do not come back count.
func TestRebuildCountsOnlyWhatItLoses(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedMany(t, c, 300)
	importFiles(t, master, Options{}, c.export(t, true))
	importFiles(t, master, Options{Rebuild: true}, c.export(t, true)) // loses nothing
	dbtest.Exec(t, c.db, `DELETE FROM note`, `DELETE FROM email`, `DELETE FROM contact WHERE id > 10`)
	full := c.export(t, true)
	_, err := Run(t.Context(), master.db.DB, master.s, []string{full}, Options{Rebuild: true})
	if !errors.Is(err, ErrMassDelete) || !strings.Contains(err.Error(), "290 of the 300 rows of contact") {
		t.Fatalf("%v, want a refusal for 290 of 300 contacts", err)
	}
}

// In the inbox a refused file is held: it stays, with NAME.why beside it
// giving the counts and the command; the prefix's later files wait; once
// applied by that command, the next run moves it to done/ and goes on.
func TestInboxHoldsMassDeletion(t *testing.T) {
	master := newSide(t)
	c := newChild(t, "nyc")
	seedMany(t, c, 300)
	inbox := t.TempDir()
	importFiles(t, master, Options{}, c.export(t, true))
	dbtest.Exec(t, c.db, `DELETE FROM note`, `DELETE FROM email`, `DELETE FROM contact`)
	held := ship(t, c.export(t, false), inbox)
	next := ship(t, c.export(t, false), inbox)
	opts := Options{ApplyAnyway: func(path string) string { return "tributary import --max-delete 100% " + path }}
	for run := 1; run <= 2; run++ {
		files, err := RunInbox(t.Context(), master.db.DB, master.s, inbox, opts)
		if exitcode.Code(err) != exitcode.Rejected {
			t.Fatalf("run %d: exit %d (%v), want 3", run, exitcode.Code(err), err)
		}
		if !exists(held) || !exists(next) || len(files) != 2 || files[0].MovedTo != "" || !files[1].Waiting {
			t.Fatalf("run %d: %+v: want both files left in the inbox, the second waiting", run, files)
		}
	}
	why, err := os.ReadFile(held + ".why")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"held in the inbox", "300 of the 300 rows of contact", "tributary import --max-delete 100% " + held} {
		if !strings.Contains(string(why), want) {
			t.Errorf(".why lacks %q:\n%s", want, why)
		}
	}
	importFiles(t, master, Options{MaxDelete: mustLimit(t, "100%")}, held)
	files, err := RunInbox(t.Context(), master.db.DB, master.s, inbox, opts)
	if err != nil {
		t.Fatalf("after applying the held file: %v", err)
	}
	for _, f := range files {
		if filepath.Dir(f.MovedTo) != filepath.Join(inbox, DoneDir) {
			t.Errorf("%s moved to %q, want done/", f.Path, f.MovedTo)
		}
	}
	if exists(held + ".why") {
		t.Error("the held file's .why is still in the inbox")
	}
	assertMirrors(t, c, master)
}

func mustLimit(t *testing.T, s string) DeleteLimit {
	t.Helper()
	l, err := ParseDeleteLimit(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
