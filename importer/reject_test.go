package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tributary/internal/dbtest"
	"tributary/internal/exitcode"
	"tributary/mapping"
	"tributary/syncfile"
)

// history is a master that applied a child's first (full) file, and the
// child's next files, not yet applied.
type history struct {
	master *side
	child  *child
	full   string // sequence 1, applied
	incr   string // sequence 2, not applied
	incr3  string // sequence 3, not applied
}

func newHistory(t *testing.T) *history {
	t.Helper()
	h := &history{master: newSide(t), child: newChild(t, "nyc")}
	seedBasic(t, h.child)
	h.full = h.child.export(t, true)
	importFiles(t, h.master, Options{}, h.full)
	stamp := stampFor(h.child)
	dbtest.Exec(t, h.child.db,
		fmt.Sprintf(`UPDATE contact SET display_name = 'renamed', modified_date = '%s' WHERE id = 2`, stamp),
		fmt.Sprintf(`INSERT INTO contact (id, display_name, modified_date) VALUES (10, 'new', '%s')`, stamp),
		`DELETE FROM activity WHERE id = 2`)
	// Empty windows (the clock has not passed a whole second yet) give
	// files without the changes: apply those, keep the one with them.
	files := h.child.exportCovering(t, h.child.until)
	importFiles(t, h.master, Options{}, files[:len(files)-1]...)
	h.incr = files[len(files)-1]
	h.incr3 = h.child.export(t, false)
	if !strings.Contains(string(readFile(t, h.incr)), "renamed") {
		t.Fatal("the incremental file lacks the change it should carry")
	}
	return h
}

// expectRejected imports files and checks exit 3, the sentinel (when
// given), a message part, and that no table of the master changed.
func expectRejected(t *testing.T, master *side, opts Options, sentinel error, msg string, files ...string) {
	t.Helper()
	before := dbtest.Checksums(t, master.db)
	_, err := Run(context.Background(), master.db.DB, master.s, files, opts)
	if code := exitcode.Code(err); code != exitcode.Rejected {
		t.Fatalf("exit %d, want 3: %v", code, err)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %v is not %v", err, sentinel)
	}
	t.Log(err)
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q lacks %q", err, msg)
	}
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, master.db), mapping.NoticesTable)
}

// insertBefore inserts a record before the first record of table.
func (p *parts) insertBefore(table, record string) *parts {
	for i, r := range p.records {
		if strings.HasPrefix(r, `{"t":"`+table+`"`) {
			p.records = append(p.records[:i], append([]string{record}, p.records[i:]...)...)
			return p
		}
	}
	panic("no record of " + table)
}

// contactRecord is a complete contact upsert with the given changes.
func contactRecord(t *testing.T, p *parts, id int, changes map[string]any) string {
	t.Helper()
	for _, r := range p.records {
		if !strings.HasPrefix(r, `{"t":"contact","op":"upsert"`) {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(r), &rec); err != nil {
			t.Fatal(err)
		}
		rec["id"] = id
		row := rec["row"].(map[string]any)
		for k, v := range changes {
			row[k] = v
		}
		b, _ := json.Marshal(rec)
		return string(b)
	}
	t.Fatal("no contact upsert")
	return ""
}

func TestRejections(t *testing.T) {
	h := newHistory(t)
	incr := readParts(t, h.incr)
	tests := []struct {
		name     string
		file     func(t *testing.T) string
		opts     Options
		sentinel error
		msg      string
	}{
		{name: "unknown format version", msg: "unknown format version", file: func(t *testing.T) string {
			return rewriteRaw(t, h.incr, func(b []byte) []byte { return []byte(strings.Replace(string(b), `"version":1`, `"version":2`, 1)) })
		}},
		{name: "bad prefix", msg: "prefix", file: func(t *testing.T) string {
			p := incr.clone()
			p.header.Prefix = "NYC"
			return rewriteRaw(t, p.write(t), func(b []byte) []byte { return b })
		}},
		{name: "table the master does not sync", sentinel: ErrMismatch, msg: "table secret", file: func(t *testing.T) string {
			p := incr.clone()
			p.header.Tables["secret"] = syncfile.TableInfo{Order: 99, Role: "snapshot", Key: []string{"id"}, Columns: []string{"id"}}
			return p.write(t)
		}},
		{name: "column the master does not have", sentinel: ErrMismatch, msg: "contact.ssn", file: func(t *testing.T) string {
			p := incr.clone()
			info := p.header.Tables["contact"]
			info.Columns = append(info.Columns, "ssn")
			p.header.Tables["contact"] = info
			return p.write(t)
		}},
		{name: "column the master's map excludes", sentinel: ErrMismatch, msg: "contact.api_key", file: func(t *testing.T) string {
			p := incr.clone()
			info := p.header.Tables["contact"]
			info.Columns = append(info.Columns, "api_key")
			p.header.Tables["contact"] = info
			return p.write(t)
		}},
		{name: "role differs", sentinel: ErrMismatch, msg: "same map", file: func(t *testing.T) string {
			p := incr.clone()
			info := p.header.Tables["tag"]
			info.Role = "track"
			p.header.Tables["tag"] = info
			return p.write(t)
		}},
		{name: "truncated: no trailer", msg: "truncated", file: func(t *testing.T) string {
			return rewriteRaw(t, h.incr, func(b []byte) []byte {
				s := strings.TrimSuffix(string(b), "\n")
				return []byte(s[:strings.LastIndex(s, "\n")+1])
			})
		}},
		{name: "truncated inside a line", msg: "truncated", file: func(t *testing.T) string {
			return rewriteRaw(t, h.incr, func(b []byte) []byte { return b[:len(b)*2/3] })
		}},
		{name: "wrong record count", msg: "trailer says", file: func(t *testing.T) string {
			return rewriteRaw(t, h.incr, func(b []byte) []byte {
				n := lineCount(t, h.incr) - 2
				return []byte(strings.Replace(string(b), fmt.Sprintf(`"records":%d`, n), fmt.Sprintf(`"records":%d`, n+1), 1))
			})
		}},
		{name: "checksum", msg: "checksum mismatch", file: func(t *testing.T) string {
			return rewriteRaw(t, h.incr, func(b []byte) []byte { return []byte(strings.Replace(string(b), "renamed", "RENAMED", 1)) })
		}},
		{name: "gap in sequence", sentinel: ErrGap, msg: fmt.Sprintf("sequences %d to %d", incr.header.Sequence, incr.header.Sequence), file: func(t *testing.T) string { return h.incr3 }},
		{name: "stale full file", sentinel: ErrStale, msg: "roll the master back", file: func(t *testing.T) string {
			p := readParts(t, h.full)
			p.header.Sequence = 1000
			until, _ := time.Parse(time.RFC3339, p.header.Until)
			p.header.Until = until.Add(-time.Hour).Format(time.RFC3339)
			return p.write(t)
		}},
		{name: "unresolved reference", sentinel: ErrUnresolved, msg: "contact.employer_id references contact child ID 999", file: func(t *testing.T) string {
			p := incr.clone()
			return p.insertBefore("contact", contactRecord(t, p, 77, map[string]any{"employer_id": 999})).write(t)
		}},
		{name: "unresolved polymorphic reference", sentinel: ErrUnresolved, msg: "note.entity_id references org child ID 55", file: func(t *testing.T) string {
			p := incr.clone()
			rec := `{"t":"note","op":"upsert","id":90,"row":{"entity_table":"org","entity_id":55,"body":"x","modified_date":"2020-01-01 00:00:00.000000"}}`
			if !strings.Contains(strings.Join(p.records, "\n"), `{"t":"note"`) {
				p.records = append(p.records, rec)
			} else {
				p.insertBefore("note", rec)
			}
			p.header.Tables["note"] = readParts(t, h.full).header.Tables["note"]
			return p.write(t)
		}},
		{name: "value too long for the master", sentinel: ErrData, msg: "display_name", file: func(t *testing.T) string {
			p := incr.clone()
			return p.insertBefore("contact", contactRecord(t, p, 78, map[string]any{"display_name": strings.Repeat("x", 200)})).write(t)
		}},
		{name: "value the master cannot hold as written", sentinel: ErrData, msg: "amount", file: func(t *testing.T) string {
			p := incr.clone()
			return p.insertBefore("contact", contactRecord(t, p, 79, map[string]any{"amount": "twelve"})).write(t)
		}},
		{name: "records out of order", sentinel: ErrBadRecord, msg: "not in apply order", file: func(t *testing.T) string {
			p := incr.clone()
			p.records = append(p.records, contactRecord(t, p, 80, nil))
			return p.write(t)
		}},
		{name: "row outside its own live ranges", sentinel: ErrInconsistent, msg: "contradicts itself", file: func(t *testing.T) string {
			p := incr.clone()
			for i, r := range p.records {
				if strings.HasPrefix(r, `{"t":"contact","op":"live"`) {
					p.records[i] = `{"t":"contact","op":"live","ranges":[[1,1]]}`
				}
			}
			return p.write(t)
		}},
		{name: "file name disagrees with header", msg: "file name says", file: func(t *testing.T) string {
			dst := filepath.Join(t.TempDir(), "nyc-0000000009-incr.jsonl")
			if err := os.WriteFile(dst, readFile(t, h.incr), 0o600); err != nil {
				t.Fatal(err)
			}
			return dst
		}},
		{name: "unsigned file on a master that requires signatures", opts: Options{SignKey: []byte("k")}, msg: "not signed", file: func(t *testing.T) string { return h.incr }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRejected(t, h.master, tt.opts, tt.sentinel, tt.msg, tt.file(t))
		})
	}
	// After all that, the real files still apply, in any order named.
	importFiles(t, h.master, Options{}, h.incr3, h.incr)
	assertMirrors(t, h.child, h.master)
}

func TestRejectionsAfterMore(t *testing.T) {
	h := newHistory(t)
	importFiles(t, h.master, Options{}, h.incr)

	t.Run("same sequence, other checksum", func(t *testing.T) {
		p := readParts(t, h.incr)
		p.replace("renamed", "forged")
		expectRejected(t, h.master, Options{}, ErrConflict, "two different files claim the same sequence", p.write(t))
	})
	t.Run("first file of a prefix is incremental", func(t *testing.T) {
		expectRejected(t, newSide(t), Options{}, ErrGap, "export --full", h.incr)
	})
	t.Run("incremental file of a stream a newer full file replaced", func(t *testing.T) {
		p := readParts(t, h.full)
		p.header.Stream = "another-stream"
		until, _ := time.Parse(time.RFC3339, readParts(t, h.incr3).header.Until)
		p.header.Until = until.Add(time.Hour).Format(time.RFC3339)
		importFiles(t, h.master, Options{}, p.write(t))
		expectRejected(t, h.master, Options{}, ErrStale, "was replaced by a newer full export", h.incr3)
	})
}

func TestReplayAndOrder(t *testing.T) {
	h := newHistory(t)
	// Named out of order and with a replay: applied in sequence order,
	// the first skipped.
	res := importFiles(t, h.master, Options{}, h.incr3, h.full, h.incr)
	var got []string
	for _, r := range res {
		got = append(got, fmt.Sprintf("%d:%t", r.Sequence, r.Skipped))
	}
	n := readParts(t, h.incr).header.Sequence
	if want := fmt.Sprintf("1:true,%d:false,%d:false", n, n+1); strings.Join(got, ",") != want {
		t.Errorf("results %v, want %s", got, want)
	}
	assertMirrors(t, h.child, h.master)
	before := dbtest.Checksums(t, h.master.db)
	res = importFiles(t, h.master, Options{}, h.full, h.incr, h.incr3)
	for _, r := range res {
		if !r.Skipped || r.Err != nil {
			t.Errorf("replay of %s: %+v", r.Path, r)
		}
	}
	dbtest.AssertSameTables(t, before, dbtest.Checksums(t, h.master.db), mapping.NoticesTable)
}

// A child whose map or schema differs from the master's (here: a column
// type) sends values the master would round: the file is rejected.
func TestRoundingRejectedWhenSchemasDiffer(t *testing.T) {
	master := newSide(t)
	dbtest.Exec(t, master.db, `ALTER TABLE contact MODIFY amount DECIMAL(14,2) NULL`)
	master = resolveAgain(t, master)
	c := newChild(t, "nyc")
	seedBasic(t, c)
	expectRejected(t, master, Options{}, ErrData, "amount", c.export(t, true))
}

func resolveAgain(t *testing.T, s *side) *side {
	t.Helper()
	fresh := newSideOn(t, s.db)
	return fresh
}
