package importer

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestPruneDoneRemovesOnlyWhatTheLedgerShowsApplied: of the old files in
// done/, only those the ledger shows applied long enough ago, with the
// same checksum, are removed. Young files, files applied recently, files
// the ledger does not know, files of other content, damaged files and
// other names stay; the ones that stay for a reason are reported.
func TestPruneDoneRemovesOnlyWhatTheLedgerShowsApplied(t *testing.T) {
	master := newSide(t)
	nyc := newChild(t, "nyc")
	seed(t, nyc)
	inbox := t.TempDir()
	var shipped []string
	shipped = append(shipped, ship(t, nyc.export(t, true), inbox))
	for i := 0; i < 4; i++ {
		shipped = append(shipped, ship(t, nyc.export(t, false), inbox))
	}
	files, err := RunInbox(context.Background(), master.db.DB, master.s, inbox, Options{})
	if err != nil || len(files) != 5 {
		t.Fatalf("inbox: %d files, %v", len(files), err)
	}
	done := filepath.Join(inbox, DoneDir)
	name := func(i int) string { return filepath.Base(shipped[i]) }
	path := func(i int) string { return filepath.Join(done, name(i)) }

	// Files 0 to 3 and the extras are 40 days old; file 4 is young.
	// The ledger shows files 0, 2 and 3 applied 40 days ago, file 1 a
	// minute ago; it forgets file 2 (a master restored from a backup)
	// and holds another checksum for file 3.
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := master.db.Exec(query, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec("UPDATE tributary_ledger SET applied_at = applied_at - INTERVAL 40 DAY WHERE sequence <> 2")
	exec("DELETE FROM tributary_ledger WHERE sequence = 3")
	exec("UPDATE tributary_ledger SET sha256 = REPEAT('0', 64) WHERE sequence = 4")
	// A copy of file 0 without its trailer: the ledger knows it, but it
	// cannot be shown to be what was applied.
	whole := strings.TrimSuffix(string(readFile(t, path(0))), "\n")
	damaged := filepath.Join(done, "nyc-0000000001-full.jsonl.2")
	if err := os.WriteFile(damaged, []byte(whole[:strings.LastIndexByte(whole, '\n')+1]), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, extra := range []string{"notes.txt", ".rsync-partial"} {
		if err := os.WriteFile(filepath.Join(done, extra), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-40 * 24 * time.Hour)
	for _, p := range []string{path(0), path(1), path(2), path(3), damaged, filepath.Join(done, "notes.txt"), filepath.Join(done, ".rsync-partial")} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}

	res, err := PruneDone(context.Background(), master.db.DB, inbox, 30*24*time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 1 || res.Removed[0] != path(0) {
		t.Errorf("removed %v, want only %s", res.Removed, name(0))
	}
	for i := 0; i <= 4; i++ {
		if i > 0 && !exists(path(i)) {
			t.Errorf("%s was removed", name(i))
		}
	}
	if exists(path(0)) {
		t.Errorf("%s was not removed", name(0))
	}
	reasons := map[string]string{}
	var kept []string
	for _, k := range res.Kept {
		reasons[filepath.Base(k.Path)] = k.Reason
		kept = append(kept, filepath.Base(k.Path))
	}
	sort.Strings(kept)
	want := []string{"notes.txt", name(2), name(3), filepath.Base(damaged)}
	sort.Strings(want)
	if strings.Join(kept, " ") != strings.Join(want, " ") {
		t.Errorf("kept with a reason: %v, want %v", kept, want)
	}
	for file, reason := range map[string]string{
		name(2):                "the ledger shows no sequence 3 of prefix nyc",
		name(3):                "the ledger's sequence 4 of prefix nyc has other content",
		filepath.Base(damaged): "it is damaged",
		"notes.txt":            "it cannot be read as a sync file",
	} {
		if !strings.Contains(reasons[file], reason) {
			t.Errorf("%s kept because %q, want %q", file, reasons[file], reason)
		}
	}

	// A second run finds nothing more to remove; no done/ at all is fine.
	if res, err := PruneDone(context.Background(), master.db.DB, inbox, 30*24*time.Hour, time.Now()); err != nil || len(res.Removed) != 0 {
		t.Errorf("second run: %+v %v", res, err)
	}
	if res, err := PruneDone(context.Background(), master.db.DB, t.TempDir(), time.Hour, time.Now()); err != nil || len(res.Removed)+len(res.Kept) != 0 {
		t.Errorf("no done/: %+v %v", res, err)
	}
}
