package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"tributary/internal/dbtest"
	"tributary/schema"
	"tributary/syncfile"
)

// recordsFixture is a plan for a one-table file and a way to write such
// files.
type recordsFixture struct {
	t    *testing.T
	s    *schema.Schema
	dir  string
	head syncfile.Header
}

func newRecordsFixture(t *testing.T) *recordsFixture {
	t.Helper()
	db, _ := dbtest.NewDatabase(t)
	dbtest.Exec(t, db, `CREATE TABLE contact (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NULL,
		modified TIMESTAMP NOT NULL DEFAULT '2001-01-01 00:00:00')`)
	m, err := schema.ParseMap([]byte("tables:\n  contact: { track: modified }\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Resolve(context.Background(), db, m)
	if err != nil {
		t.Fatal(err)
	}
	return &recordsFixture{t: t, s: s, dir: t.TempDir(), head: syncfile.Header{
		Prefix: "nyc", Stream: "s1", Sequence: 2, Mode: syncfile.ModeIncremental,
		Since: "2001-01-01T00:00:00Z", Until: "2001-01-01T00:00:10Z", Created: "2001-01-01T00:00:11Z",
		Tables: map[string]syncfile.TableInfo{"contact": {Order: 0, Role: "track", Key: []string{"id"}, Columns: []string{"id", "name", "modified"}}},
	}}
}

// write writes a file of n contacts named with suffix, and their live
// ranges, and returns its path.
func (f *recordsFixture) write(name string, n int, suffix string) string {
	f.t.Helper()
	h := f.head
	w, err := syncfile.Create(f.dir, name, syncfile.WriterOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	defer w.Abort()
	if err := w.WriteHeader(&h); err != nil {
		f.t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		rec := fmt.Sprintf(`{"t":"contact","op":"upsert","id":%d,"row":{"name":"c%d%s","modified":"2001-01-01 00:00:05"}}`, i, i, suffix)
		if err := w.WriteRecord([]byte(rec)); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := w.WriteRecord([]byte(fmt.Sprintf(`{"t":"contact","op":"live","ranges":[[1,%d]]}`, n))); err != nil {
		f.t.Fatal(err)
	}
	path, err := w.Commit()
	if err != nil {
		f.t.Fatal(err)
	}
	return path
}

// read surveys the file and then hands out its items; it returns the
// names of the rows handed out and the error that ended them.
func (f *recordsFixture) read(file *syncfile.File, keep int, between func()) ([]string, *Contents, error) {
	f.t.Helper()
	ctx := context.Background()
	r, err := file.Reader(syncfile.ReaderOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Close()
	p, err := New(f.s, r.Header())
	if err != nil {
		f.t.Fatal(err)
	}
	recs := Read(r, p, func() (*syncfile.Reader, error) { return file.Reader(syncfile.ReaderOptions{}) })
	defer recs.Close()
	c, err := recs.Survey(ctx, keep, true)
	if err != nil {
		f.t.Fatal(err)
	}
	if between != nil {
		between()
	}
	var names []string
	for {
		items, err := recs.Next(ctx)
		for _, it := range items {
			if !it.Live {
				names = append(names, it.Row.Vals[0].(string))
			}
		}
		if errors.Is(err, io.EOF) {
			if recs.Trailer().Records != int64(len(names)+1) {
				f.t.Errorf("trailer says %d records, %d handed out", recs.Trailer().Records, len(names)+1)
			}
			return names, c, nil
		}
		if err != nil {
			return names, c, err
		}
	}
}

// A survey learns what the file carries before the first upsert; the
// items handed out afterwards are the file's, in order, whether the survey
// kept them all or they did not fit and the file was read again.
func TestSurveyThenRecords(t *testing.T) {
	f := newRecordsFixture(t)
	path := f.write("nyc-0000000002-incr.jsonl", 600, "")
	for _, keep := range []int{1 << 20, 1000} { // all kept; a second read
		t.Run(fmt.Sprintf("keep %d bytes", keep), func(t *testing.T) {
			file, err := syncfile.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			names, c, err := f.read(file, keep, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != 600 || names[0] != "c1" || names[599] != "c600" {
				t.Errorf("handed out %d rows (%v ... ), want c1 to c600", len(names), names[:min(3, len(names))])
			}
			if !c.IDs["contact"].Has(1) || !c.IDs["contact"].Has(600) || c.IDs["contact"].Has(601) || len(c.Live["contact"]) != 1 {
				t.Errorf("contents: %+v", c)
			}
		})
	}
}

// A file rewritten in place between the survey and the second read is
// not applied: what the survey learned is not about the bytes read then.
func TestSurveyRefusesAFileChangedBeforeTheSecondRead(t *testing.T) {
	f := newRecordsFixture(t)
	path := f.write("nyc-0000000002-incr.jsonl", 600, "")
	other := f.write("other.jsonl", 600, "x")
	file, err := syncfile.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	_, _, err = f.read(file, 1000, func() {
		b, err := os.ReadFile(other)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o640); err != nil { // the same inode, new bytes
			t.Fatal(err)
		}
	})
	if err == nil || !strings.Contains(err.Error(), "the file changed while it was applied") {
		t.Fatalf("err = %v, want the file refused for changing", err)
	}
}
