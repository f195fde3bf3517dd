package export

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/childdb"
	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/syncfile"
)

// A state file belongs to one database: an export whose connection reaches
// another one (a mistyped --dsn) refuses with exit 2 and writes nothing;
// --new-stream starts a new stream from it on purpose.
func TestExportRefusesAnotherDatabase(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.exec(`INSERT INTO contact (id, name, modified) VALUES (1, 'Ann', '2001-01-01 00:00:01')`)
	first, file := f.export("2001-01-01 00:00:10")
	var dbName, host string
	if err := f.db.QueryRow("SELECT DATABASE(), CONCAT(@@hostname, ':', @@port)").Scan(&dbName, &host); err != nil {
		t.Fatal(err)
	}
	if got := file.Header.Source.Origin(); got != (childdb.Origin{Host: host, Database: dbName}) {
		t.Errorf("header source %+v, want database %s on %s", got, dbName, host)
	}
	var st State
	if err := json.Unmarshal([]byte(readState(t, f.out)), &st); err != nil {
		t.Fatal(err)
	}
	if st.Source == nil || *st.Source != (childdb.Origin{Host: host, Database: dbName}) {
		t.Fatalf("state source %+v, want database %s on %s", st.Source, dbName, host)
	}

	// The same prefix and --out, another database: the typo.
	other, otherCfg := dbtest.NewDatabase(t)
	dbtest.Exec(t, other, testSchema...)
	stateBefore := readState(t, f.out)
	filesBefore := dirNames(t, f.out)
	opts := f.options()
	_, err := Run(context.Background(), atClock(t, otherCfg, "2001-01-01 00:00:20"), resolveMap(t, other, testMap), opts)
	if exitcode.Code(err) != exitcode.Usage {
		t.Fatalf("export of another database: exit %d (%v), want 2", exitcode.Code(err), err)
	}
	for _, want := range []string{dbName, "--new-stream", "nothing was exported"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if readState(t, f.out) != stateBefore || strings.Join(dirNames(t, f.out), " ") != strings.Join(filesBefore, " ") {
		t.Error("the refused export changed the state or the output directory")
	}

	// On purpose: a new stream, a full file, the new database recorded.
	opts.NewStream = true
	res, err := Run(context.Background(), atClock(t, otherCfg, "2001-01-01 00:00:20"), resolveMap(t, other, testMap), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.State.Stream == first.State.Stream || res.State.Sequence != 1 || res.Mode != syncfile.ModeFull {
		t.Errorf("--new-stream wrote stream %s sequence %d (%s), want a new stream's full file 1", res.State.Stream, res.State.Sequence, res.Mode)
	}
	if res.State.Source == nil || res.State.Source.Database == dbName {
		t.Errorf("--new-stream recorded %+v, want the other database", res.State.Source)
	}
	// And the original database is now the stranger.
	_, err = Run(context.Background(), f.dbAt("2001-01-01 00:00:30"), f.s, f.options())
	if exitcode.Code(err) != exitcode.Usage {
		t.Fatalf("export of the first database after the move: exit %d (%v), want 2", exitcode.Code(err), err)
	}
}

// A state file written before origins were recorded adopts the database
// of its next export, says so once, and guards from then on.
func TestOldStateFileAdoptsItsDatabase(t *testing.T) {
	f := newFixture(t, testSchema, testMap)
	f.export("2001-01-01 00:00:10")
	path := filepath.Join(f.out, ".tributary-nyc.state")
	var st State
	if err := json.Unmarshal([]byte(readState(t, f.out)), &st); err != nil {
		t.Fatal(err)
	}
	st.Source = nil
	if err := SaveState(path, &st); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "source") {
		t.Fatalf("old-style state file still names a source: %s", data)
	}
	res, _ := f.export("2001-01-01 00:00:20")
	if res.State.Source == nil || res.State.Sequence != 2 {
		t.Fatalf("state after adoption: %+v", res.State)
	}
	if !f.warned("did not record its database") {
		t.Errorf("no warning about the adopted database: %v", f.warnings)
	}
}
