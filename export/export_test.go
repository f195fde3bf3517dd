package export

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tributary/internal/exitcode"
	"tributary/syncfile"
	"tributary/syncfile/syncfiletest"
)

func TestFirstExportIsFullAndStartsAStream(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(`INSERT INTO contact (id, name, api_key, modified) VALUES (1, 'Ann', 'secret', '2001-01-01 00:00:01'), (2, 'Bob', 'secret', NULL)`)
	res, file := f.export("2001-01-01 00:00:10")
	h := file.Header
	if h.Mode != syncfile.ModeFull || h.Sequence != 1 || h.Since != "" || h.Until != "2001-01-01T00:00:10Z" || len(h.Stream) != 32 {
		t.Errorf("header = %+v", h)
	}
	if filepath.Base(res.Path) != "nyc-0000000001-full.jsonl.gz" {
		t.Errorf("path = %s", res.Path)
	}
	// A full file has every row, NULL track values included.
	if ids := file.ids("contact"); !eqIDs(ids, 1, 2) {
		t.Errorf("contacts = %v", ids)
	}
	// Excluded columns never leave the database.
	if strings.Contains(strings.Join(file.rows("contact"), ""), "secret") || strings.Contains(strings.Join(h.Tables["contact"].Columns, ","), "api_key") {
		t.Error("excluded column api_key was exported")
	}
	if _, shared := h.Tables["tag"]; shared {
		t.Error("shared table in the header")
	}
	info, err := os.Stat(res.Path)
	if err != nil || info.Mode().Perm() != syncfile.FileMode {
		t.Errorf("file mode: %v %v", info.Mode(), err)
	}
	state := readState(t, f.out)
	if !strings.Contains(state, `"sequence":1`) || !strings.Contains(state, h.Stream) || !strings.Contains(state, `"until":"2001-01-01T00:00:10Z"`) {
		t.Errorf("state = %s", state)
	}

	// The next export continues the stream, incrementally, even with no change.
	_, next := f.export("2001-01-01 00:00:20")
	if next.Header.Mode != syncfile.ModeIncremental || next.Header.Sequence != 2 || next.Header.Stream != h.Stream ||
		next.Header.Since != "2001-01-01T00:00:10Z" || next.Header.Until != "2001-01-01T00:00:20Z" {
		t.Errorf("second header = %+v", next.Header)
	}
	if ids := next.ids("contact"); len(ids) != 0 {
		t.Errorf("no change, yet contacts %v", ids)
	}
	if live := next.live("contact"); len(live) != 1 || live[0] != [2]int64{1, 2} {
		t.Errorf("live = %v", live)
	}
}

// A row stamped exactly at a boundary is in exactly one window, for
// fractional TIMESTAMP(6) values and for whole-second DATETIME values.
func TestBoundarySecondInExactlyOneWindow(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	lag := func(o *Options) { o.Lag = 5 * time.Second }
	f.export("2001-01-01 00:00:10", lag) // full; its window ends at :05
	f.exec(
		`INSERT INTO contact (id, name, modified) VALUES
			(10, 'before', '2001-01-01 00:00:14.999999'),
			(11, 'at',     '2001-01-01 00:00:15.000000'),
			(12, 'after',  '2001-01-01 00:00:15.000001'),
			(13, 'start',  '2001-01-01 00:00:05.000000')`,
		`INSERT INTO activity (id, subject, source_contact_id, modified) VALUES
			(20, 'before', 13, '2001-01-01 00:00:14'),
			(21, 'at',     13, '2001-01-01 00:00:15')`,
	)
	_, f2 := f.export("2001-01-01 00:00:20.7", lag) // until 00:00:15, whole seconds
	_, f3 := f.export("2001-01-01 00:00:30", lag)
	if f2.Header.Until != "2001-01-01T00:00:15Z" || f3.Header.Since != "2001-01-01T00:00:15Z" {
		t.Fatalf("windows %s..%s and %s..%s", f2.Header.Since, f2.Header.Until, f3.Header.Since, f3.Header.Until)
	}
	if got := f2.ids("contact"); !eqIDs(got, 10, 13) {
		t.Errorf("window 2 contacts = %v, want [10 13]", got)
	}
	if got := f3.ids("contact"); !eqIDs(got, 11, 12) {
		t.Errorf("window 3 contacts = %v, want [11 12]", got)
	}
	if got := f2.ids("activity"); !eqIDs(got, 20) {
		t.Errorf("window 2 activities = %v, want [20]", got)
	}
	if got := f3.ids("activity"); !eqIDs(got, 21) {
		t.Errorf("window 3 activities = %v, want [21]", got)
	}
}

// A parent touched again after the window closed, referenced by a new row
// in the window, is in the file: the master must resolve the reference.
func TestClosurePullsReferencedRows(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(`INSERT INTO contact (id, name, modified) VALUES
		(1, 'old',      '2001-01-01 00:00:01'),
		(2, 'employer', NULL)`)
	f.export("2001-01-01 00:00:10")
	f.exec(
		// 3 is touched after the window's end: it belongs to a later window.
		`INSERT INTO contact (id, name, employer_id, modified) VALUES (3, 'late', 2, '2001-01-01 00:00:25')`,
		// 4 has no track value: only a full export or a reference sends it.
		`INSERT INTO contact (id, name, modified) VALUES (4, 'untracked', NULL)`,
		`INSERT INTO activity (id, subject, source_contact_id, modified) VALUES
			(30, 'call late', 3, '2001-01-01 00:00:12'),
			(31, 'call old',  1, '2001-01-01 00:00:13')`,
		`INSERT INTO note (id, entity_table, entity_id, note, modified) VALUES (40, 'contact', 4, 'hi', '2001-01-01 00:00:14')`,
		`INSERT INTO phone (id, contact_id, phone) VALUES (50, 3, '555-3')`,
	)
	_, file := f.export("2001-01-01 00:00:20")
	// 3 is referenced and after the window; 2 is referenced by 3 (a
	// fixpoint) with a NULL track; 4 by the note; 1 was sent in file 1.
	if got := file.ids("contact"); !eqIDs(got, 2, 3, 4) {
		t.Errorf("contacts = %v, want [2 3 4]", got)
	}
	// A contact pulled in brings its owned rows.
	if got := file.ids("phone"); !eqIDs(got, 50) {
		t.Errorf("phones = %v, want [50]", got)
	}
	assertClosed(t, file)
}

// assertClosed checks every reference of every row against the rows in
// the file: the test fixtures make every referenced row part of the file
// unless it was in the first (full) file, and rows 1 of each table are.
func assertClosed(t *testing.T, file *file) {
	t.Helper()
	in := map[string]map[int64]bool{}
	for _, r := range file.Records {
		if r.Op == syncfile.OpUpsert && r.HasID {
			if in[r.Table] == nil {
				in[r.Table] = map[int64]bool{}
			}
			in[r.Table][r.ID] = true
		}
	}
	for _, r := range file.Records {
		if r.Table == "activity" && r.Op == syncfile.OpUpsert {
			id := jsonInt(t, r.Row, "source_contact_id")
			if id != 1 && !in["contact"][id] {
				t.Errorf("activity %d references contact %d, which is not in the file", r.ID, id)
			}
		}
	}
}

// An owner's set is complete: 3 phones, one deleted, the file has the 2 left.
func TestOwnerSetComplete(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(
		`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2001-01-01 00:00:01'), (2, 'Bob', '2001-01-01 00:00:01')`,
		`INSERT INTO phone (id, contact_id, phone) VALUES (1, 1, '555-1'), (2, 1, '555-2'), (3, 1, '555-3'), (4, 2, '555-4')`,
		`INSERT INTO grp (id, title) VALUES (1, 'All')`,
		`INSERT INTO group_contact (group_id, contact_id) VALUES (1, 1), (1, 2)`,
	)
	_, full := f.export("2001-01-01 00:00:10")
	if got := full.ids("phone"); !eqIDs(got, 1, 2, 3, 4) {
		t.Fatalf("full file phones = %v", got)
	}
	f.exec(`DELETE FROM phone WHERE id = 2`, `UPDATE contact SET modified = '2001-01-01 00:00:12' WHERE id = 1`)
	_, file := f.export("2001-01-01 00:00:20")
	if got := file.ids("phone"); !eqIDs(got, 1, 3) {
		t.Errorf("phones = %v, want [1 3]", got)
	}
	if got := file.rows("group_contact"); len(got) != 1 || !strings.Contains(got[0], `"contact_id":1`) {
		t.Errorf("group_contact rows = %v, want contact 1's only", got)
	}
	// Snapshot tables go whole every time.
	if got := file.ids("grp"); !eqIDs(got, 1) {
		t.Errorf("groups = %v", got)
	}
}

// A reference into an owner table brings the owner row, and so the owner's
// whole set: an activity on phone 5 brings contact 2 and both its phones.
func TestReferenceIntoOwnerTablePullsOwner(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(
		`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2001-01-01 00:00:01'), (2, 'Bob', '2001-01-01 00:00:01')`,
		`INSERT INTO phone (id, contact_id, phone) VALUES (4, 2, '555-4')`,
	)
	f.export("2001-01-01 00:00:10")
	f.exec(
		`INSERT INTO phone (id, contact_id, phone) VALUES (5, 2, '555-5')`, // contact 2 not touched
		`INSERT INTO activity (id, subject, source_contact_id, phone_id, modified) VALUES (1, 'call', 1, 5, '2001-01-01 00:00:15')`,
	)
	_, file := f.export("2001-01-01 00:00:20")
	if got := file.ids("contact"); !eqIDs(got, 2) {
		t.Errorf("contacts = %v, want [2]", got)
	}
	if got := file.ids("phone"); !eqIDs(got, 4, 5) {
		t.Errorf("phones = %v, want [4 5]", got)
	}
}

// A deleted track row is absent from the live ranges.
func TestLiveRangesOmitDeletedRows(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(`INSERT INTO contact (id, name, modified) VALUES (1, 'a', '2001-01-01 00:00:01'), (2, 'b', '2001-01-01 00:00:01'),
		(3, 'c', '2001-01-01 00:00:01'), (4, 'd', '2001-01-01 00:00:01'), (5, 'e', '2001-01-01 00:00:01')`)
	_, full := f.export("2001-01-01 00:00:10")
	if got := full.live("contact"); len(got) != 1 || got[0] != [2]int64{1, 5} {
		t.Errorf("full live = %v", got)
	}
	f.exec(`DELETE FROM contact WHERE id = 3`)
	_, file := f.export("2001-01-01 00:00:20")
	got := file.live("contact")
	if len(got) != 2 || got[0] != [2]int64{1, 2} || got[1] != [2]int64{4, 5} {
		t.Errorf("live = %v, want [[1 2] [4 5]]", got)
	}
	if got := file.live("note"); len(got) != 0 {
		t.Errorf("empty table's live ranges = %v", got)
	}
	found := false
	for _, r := range file.Records {
		found = found || (r.Table == "note" && r.Op == syncfile.OpLive)
	}
	if !found {
		t.Error("an empty track table must still get a live record")
	}
}

// Polymorphic references to tables outside the map leave rows out, and
// so do references to rows left out; they are counted in a warning.
func TestPolymorphicLeftOut(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(
		`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2001-01-01 00:00:01')`,
		`INSERT INTO kase (id, subject) VALUES (1, 'case')`,
		`INSERT INTO note (id, entity_table, entity_id, note, modified) VALUES
			(1, 'contact', 1, 'on a contact', '2001-01-01 00:00:01'),
			(2, 'kase',    1, 'on a case',    '2001-01-01 00:00:01'),
			(3, 'note',    2, 'reply to the case note', '2001-01-01 00:00:01'),
			(4, 'tag',     1, 'on a shared tag', '2001-01-01 00:00:01'),
			(5, 'contact', 99, 'on a contact that is gone', '2001-01-01 00:00:01'),
			(6, 'note',    1, 'reply to note 1', '2001-01-01 00:00:01')`,
		`INSERT INTO entity_tag (id, entity_table, entity_id, tag_id) VALUES (1, 'contact', 1, 1), (2, 'kase', 1, 2), (3, 'note', 3, 1)`,
	)
	res, file := f.export("2001-01-01 00:00:10")
	if got := file.ids("note"); !eqIDs(got, 1, 4, 6) {
		t.Errorf("notes = %v, want [1 4 6]", got)
	}
	if got := file.ids("entity_tag"); !eqIDs(got, 1) {
		t.Errorf("entity tags = %v, want [1]", got)
	}
	// 1, 4 and 6 are live; 2, 3 and 5 are not the master's to keep.
	if got := file.live("note"); len(got) != 3 || got[0] != [2]int64{1, 1} || got[1] != [2]int64{4, 4} || got[2] != [2]int64{6, 6} {
		t.Errorf("note live ranges = %v, want [[1 1] [4 4] [6 6]]", got)
	}
	var noteLeft int64
	for _, tr := range res.Tables {
		if tr.Name == "note" {
			for _, n := range tr.LeftOut {
				noteLeft += n
			}
		}
	}
	if noteLeft != 3 {
		t.Errorf("notes left out = %d, want 3", noteLeft)
	}
	for _, want := range []string{"entity_table names kase, which is neither synced nor shared", "references a note row that is left out", "references a contact row that does not exist"} {
		if !f.warned(want) {
			t.Errorf("no warning %q in %q", want, f.warnings)
		}
	}

	// An incremental file checks its own rows and what they reference,
	// however far up: a new reply to the old note on a case is left out.
	f.warnings = nil
	f.exec(`INSERT INTO note (id, entity_table, entity_id, note, modified) VALUES
			(7,  'note',    3,  'reply to the reply to the case note', '2001-01-01 00:00:15'),
			(8,  'kase',    1,  'new note on a case', '2001-01-01 00:00:15'),
			(9,  'contact', 98, 'on a contact that never was', '2001-01-01 00:00:15'),
			(10, 'contact', 1,  'fine', '2001-01-01 00:00:15')`,
		`INSERT INTO entity_tag (id, entity_table, entity_id, tag_id) VALUES (4, 'note', 7, 1), (5, 'note', 10, 1)`)
	res, file = f.export("2001-01-01 00:00:20")
	if got := file.ids("note"); !eqIDs(got, 10) {
		t.Errorf("incremental notes = %v, want [10]", got)
	}
	if got := file.ids("entity_tag"); !eqIDs(got, 5) {
		t.Errorf("incremental entity tags = %v, want [5]", got)
	}
	for _, tr := range res.Tables {
		var n int64
		for _, c := range tr.LeftOut {
			n += c
		}
		if want := map[string]int64{"note": 3, "entity_tag": 1}[tr.Name]; n != want {
			t.Errorf("incremental: %s left out %d, want %d (%v)", tr.Name, n, want, tr.LeftOut)
		}
	}
}

// Cancelling mid-write (Ctrl-C) leaves no file and the state as it was.
func TestCancelMidWriteLeavesNothing(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(`INSERT INTO contact (id, name, modified) SELECT seq, CONCAT('c', seq), '2001-01-01 00:00:01' FROM seq_1_to_25000`)
	f.export("2001-01-01 00:00:10")
	before := readState(t, f.out)
	f.exec(`UPDATE contact SET modified = '2001-01-01 00:00:15'`)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := f.options()
	opts.Progress = func(p Progress) {
		if p.Rows >= 10000 {
			cancel() // in the middle of the contact table
		}
	}
	_, err := Run(ctx, f.dbAt("2001-01-01 00:00:20"), f.s, opts)
	if !errors.Is(err, context.Canceled) || exitcode.Code(err) != exitcode.Interrupted {
		t.Fatalf("err = %v (code %d), want context.Canceled and 130", err, exitcode.Code(err))
	}
	if got := syncfiletest.Visible(t, f.out); len(got) != 1 {
		t.Errorf("visible files = %v, want only the first", got)
	}
	for _, n := range dirNames(t, f.out) {
		if strings.HasSuffix(n, ".tmp") {
			t.Errorf("temporary file left: %s", n)
		}
	}
	if after := readState(t, f.out); after != before {
		t.Errorf("state changed:\n%s\n%s", before, after)
	}
}

// An output directory that cannot take the file: exit 1, no file, state
// unchanged.
func TestUnwritableOutputLeavesStateAlone(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.export("2001-01-01 00:00:10")
	before := readState(t, f.out)
	// The temporary name is taken by a directory, so the file cannot be
	// created (running as root, permissions would not stop us).
	blocker := filepath.Join(f.out, syncfile.TempName(syncfile.FileName("nyc", 2, syncfile.ModeIncremental, true)))
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocker, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), f.dbAt("2001-01-01 00:00:20"), f.s, f.options())
	if err == nil || exitcode.Code(err) != exitcode.Failure {
		t.Fatalf("err = %v (code %d), want a failure", err, exitcode.Code(err))
	}
	if got := syncfiletest.Visible(t, f.out); len(got) != 1 {
		t.Errorf("visible files = %v", got)
	}
	if after := readState(t, f.out); after != before {
		t.Errorf("state changed")
	}
}

// A second export of the same prefix while one runs exits 75 at once,
// touching nothing.
func TestConcurrentExportIsLocked(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	lock, err := acquireLock(DefaultStatePath(f.out, "nyc") + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	_, err = Run(context.Background(), f.dbAt("2001-01-01 00:00:10"), f.s, f.options())
	if exitcode.Code(err) != exitcode.Locked {
		t.Fatalf("err = %v, want exit 75", err)
	}
	if names := dirNames(t, f.out); len(names) != 1 || names[0] != ".tributary-nyc.state.lock" {
		t.Errorf("directory holds %v", names)
	}
}

// A run killed between the rename and the state update left the file and
// the old state; the next run adopts that file instead of writing its
// sequence again with another window.
func TestAdoptsFileCompletedBeforeCrash(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.export("2001-01-01 00:00:10")
	before := readState(t, f.out)
	f.export("2001-01-01 00:00:20")
	if err := os.WriteFile(DefaultStatePath(f.out, "nyc"), []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	_, file := f.export("2001-01-01 00:00:30")
	if file.Header.Sequence != 3 || file.Header.Since != "2001-01-01T00:00:20Z" {
		t.Errorf("header = %+v, want sequence 3 from :20", file.Header)
	}
	if !f.warned("adopted") {
		t.Errorf("warnings = %q", f.warnings)
	}
}

func TestStateOfAnotherPrefixIsUsageError(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.export("2001-01-01 00:00:10")
	opts := f.options()
	opts.Prefix = "bos"
	opts.StatePath = DefaultStatePath(f.out, "nyc")
	_, err := Run(context.Background(), f.dbAt("2001-01-01 00:00:20"), f.s, opts)
	if exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "belongs to prefix") {
		t.Fatalf("err = %v", err)
	}
}
