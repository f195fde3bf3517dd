package importer

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"tributary/export"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/mapping"
)

// A file of a stream whose earlier files came from another database is
// rejected with the master unchanged: here the stream's state file was
// copied to another child database, by an older tributary that did not
// record its database (today's export refuses such a copy itself).
func TestStreamFromAnotherDatabaseRejected(t *testing.T) {
	master := newSide(t)
	a := newChild(t, "nyc")
	seed(t, a)
	importFiles(t, master, Options{}, a.export(t, true), a.export(t, false))

	b := newChild(t, "nyc")
	seed(t, b)
	st, err := export.LoadState(a.state, "nyc")
	if err != nil {
		t.Fatal(err)
	}
	st.Source = nil
	if err := export.SaveState(b.state, st); err != nil {
		t.Fatal(err)
	}
	file := b.export(t, false)
	before := dbtest.Checksums(t, master.db)
	_, err = Run(t.Context(), master.db.DB, master.s, []string{file}, Options{})
	if exitcode.Code(err) != exitcode.Rejected || !errors.Is(err, ErrSource) {
		t.Fatalf("exit %d (%v), want 3 for a file from another database", exitcode.Code(err), err)
	}
	if !strings.Contains(err.Error(), "--new-stream") {
		t.Errorf("the message does not say how to start over on purpose: %v", err)
	}
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)

	// A full file of that stream is refused the same way; one of a new
	// stream is a new start, applied with a warning naming both databases.
	full := b.export(t, true)
	if _, err := Run(t.Context(), master.db.DB, master.s, []string{full}, Options{}); !errors.Is(err, ErrSource) {
		t.Fatalf("a full file of the stream from another database: %v, want ErrSource", err)
	}
	if err := os.Remove(b.state); err != nil {
		t.Fatal(err)
	}
	last := b.until
	newStream := b.export(t, true)
	for !b.until.After(last) { // a full file must end after what the master holds
		time.Sleep(200 * time.Millisecond)
		newStream = b.export(t, true)
	}
	var warnings []string
	importFiles(t, master, Options{Warn: func(s string) { warnings = append(warnings, s) }}, newStream)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "the previous stream") {
		t.Errorf("warnings %q, want one about the new stream's other database", warnings)
	}
	assertMirrors(t, b, master)
}
