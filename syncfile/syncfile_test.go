package syncfile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func testHeader() *Header {
	return &Header{
		Prefix: "nyc", Stream: "7f3a", Sequence: 42, Mode: ModeIncremental,
		Since: "2026-11-22T10:00:00Z", Until: "2026-11-22T10:15:00Z", Created: "2026-11-22T10:15:05Z",
		Tables: map[string]TableInfo{
			"civicrm_contact": {Order: 0, Role: "track", Key: []string{"id"}, Columns: []string{"id", "first_name", "photo"}, Binary: []string{"photo"}},
		},
	}
}

var testRecords = []string{
	`{"t":"civicrm_contact","op":"upsert","id":1,"row":{"first_name":"Ann","photo":null}}`,
	`{"t":"civicrm_contact","op":"upsert","id":2,"row":{"first_name":"Zoë","photo":"AAE="}}`,
	`{"t":"civicrm_contact","op":"live","ranges":[[1,2],[5,9]]}`,
}

// writeFile writes a complete test file and returns its path.
func writeFile(t *testing.T, dir string, opts WriterOptions, records ...string) string {
	t.Helper()
	h := testHeader()
	w, err := Create(dir, FileName(h.Prefix, h.Sequence, h.Mode, opts.Gzip), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if err := w.WriteRecord([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	path, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll reads every record and returns the first error (io.EOF means the
// file verified).
func readAll(path string, opts ReaderOptions) ([]Record, error) {
	r, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if err != nil {
			return recs, err
		}
		recs = append(recs, *rec)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%t", gz), func(t *testing.T) {
			path := writeFile(t, t.TempDir(), WriterOptions{Gzip: gz}, testRecords...)
			if !strings.HasSuffix(path, map[bool]string{true: ".jsonl.gz", false: ".jsonl"}[gz]) {
				t.Errorf("path %s has the wrong suffix", path)
			}
			recs, err := readAll(path, ReaderOptions{})
			if !errors.Is(err, io.EOF) {
				t.Fatalf("read: %v", err)
			}
			if len(recs) != 3 {
				t.Fatalf("got %d records, want 3", len(recs))
			}
			if recs[1].ID != 2 || !recs[1].HasID || recs[1].Row.Get("first_name").String() != "Zoë" {
				t.Errorf("record 2 = %+v", recs[1])
			}
			if got := fmt.Sprint(recs[2].Ranges); got != "[[1 2] [5 9]]" {
				t.Errorf("ranges = %s", got)
			}
		})
	}
}

func TestFileModeIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := writeFile(t, t.TempDir(), WriterOptions{}, testRecords...)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode %04o, want 0640", info.Mode().Perm())
	}
}

func TestNothingVisibleBeforeCommit(t *testing.T) {
	dir := t.TempDir()
	h := testHeader()
	name := FileName(h.Prefix, h.Sequence, h.Mode, true)
	w, err := Create(dir, name, WriterOptions{Gzip: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "."+name+".tmp" {
		t.Fatalf("while writing, dir holds %v; want only the dot-named temporary file", entries)
	}
	if _, ok := ParseFileName(entries[0].Name()); ok {
		t.Error("the temporary name must not parse as a sync file name")
	}
	w.Abort()
	entries, _ = os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("after Abort, dir holds %v", entries)
	}
}

// TestTruncatedAnywhere cuts a file at every byte: each cut must be
// rejected, never read as a shorter valid file.
func TestTruncatedAnywhere(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		path := writeFile(t, dir, WriterOptions{Gzip: gz}, testRecords...)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(dir, "cut")
		for n := 0; n < len(data); n++ {
			if err := os.WriteFile(cut, data[:n], 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := readAll(cut, ReaderOptions{})
			var rej *RejectError
			if !errors.As(err, &rej) {
				t.Fatalf("gzip=%t cut at %d of %d: got %v, want a RejectError", gz, n, len(data), err)
			}
		}
	}
}

func TestRejections(t *testing.T) {
	valid := func() []string {
		return strings.Split(string(mustRead(t, writeFile(t, t.TempDir(), WriterOptions{}, testRecords...))), "\n")
	}
	tests := []struct {
		name    string
		edit    func(lines []string) []string
		wantErr string
	}{
		{"changed value keeps the count", func(l []string) []string {
			l[1] = strings.Replace(l[1], "Ann", "Anne", 1)
			return l
		}, "checksum mismatch"},
		{"dropped record", func(l []string) []string { return append(l[:2], l[3:]...) }, "trailer says 3 records, the file holds 2"},
		{"unknown version", func(l []string) []string {
			l[0] = strings.Replace(l[0], `"version":1`, `"version":2`, 1)
			return l
		}, "unknown format version 2"},
		{"bad prefix", func(l []string) []string {
			l[0] = strings.Replace(l[0], `"prefix":"nyc"`, `"prefix":"NYC; drop"`, 1)
			return l
		}, "prefix"},
		{"table not in header", func(l []string) []string {
			l[1] = strings.Replace(l[1], "civicrm_contact", "civicrm_secret", 1)
			return l
		}, "which the header does not list"},
		{"column not in header", func(l []string) []string {
			l[1] = strings.Replace(l[1], "first_name", "password", 1)
			return l
		}, "has no column password"},
		{"data after trailer", func(l []string) []string { return append(l[:len(l)-1], testRecords[0], "") }, "data after the trailer"},
		{"not json", func(l []string) []string {
			l[2] = "{not json"
			return l
		}, "not valid JSON"},
		{"descending range", func(l []string) []string {
			l[3] = strings.Replace(l[3], "[5,9]", "[9,5]", 1)
			return l
		}, "low <= high"},
		{"fractional id", func(l []string) []string {
			l[1] = strings.Replace(l[1], `"id":1`, `"id":1.5`, 1)
			return l
		}, "not an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.jsonl")
			if err := os.WriteFile(path, []byte(strings.Join(tt.edit(valid()), "\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := readAll(path, ReaderOptions{})
			var rej *RejectError
			if !errors.As(err, &rej) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want a RejectError containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSignedFiles(t *testing.T) {
	key := []byte("shared secret of child and master")
	dir := t.TempDir()
	signed := writeFile(t, dir, WriterOptions{SignKey: key}, testRecords...)
	if _, err := readAll(signed, ReaderOptions{SignKey: key}); !errors.Is(err, io.EOF) {
		t.Fatalf("signed file with the right key: %v", err)
	}
	if _, err := readAll(signed, ReaderOptions{SignKey: []byte("other key")}); err == nil || !strings.Contains(err.Error(), "signature (HMAC) does not match") {
		t.Fatalf("wrong key: got %v", err)
	}
	unsigned := writeFile(t, t.TempDir(), WriterOptions{}, testRecords...)
	if _, err := readAll(unsigned, ReaderOptions{SignKey: key}); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("unsigned file on a master with a key: got %v", err)
	}
}

func TestGzipDetectedByContent(t *testing.T) {
	plain := writeFile(t, t.TempDir(), WriterOptions{}, testRecords...)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(mustRead(t, plain))
	zw.Close()
	path := filepath.Join(t.TempDir(), "renamed.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(path, ReaderOptions{}); !errors.Is(err, io.EOF) {
		t.Fatalf("gzip content under a plain name: %v", err)
	}
}

func TestLineLimit(t *testing.T) {
	long := `{"t":"civicrm_contact","op":"upsert","id":3,"row":{"first_name":"` + strings.Repeat("x", 5000) + `"}}`
	path := writeFile(t, t.TempDir(), WriterOptions{}, long)
	_, err := readAll(path, ReaderOptions{MaxLineBytes: 1024})
	if err == nil || !strings.Contains(err.Error(), "line longer than 1024 bytes") {
		t.Fatalf("got %v", err)
	}
	if _, err := readAll(path, ReaderOptions{}); !errors.Is(err, io.EOF) {
		t.Fatalf("default limit: %v", err)
	}
}

func TestFileNames(t *testing.T) {
	if got := FileName("nyc", 42, ModeIncremental, true); got != "nyc-0000000042-incr.jsonl.gz" {
		t.Errorf("FileName = %s", got)
	}
	info, ok := ParseFileName("sf_2-0000000007-full.jsonl")
	if !ok || info.Prefix != "sf_2" || info.Sequence != 7 || info.Mode != ModeFull || info.Gzip {
		t.Errorf("ParseFileName = %+v, %t", info, ok)
	}
	for _, bad := range []string{".nyc-0000000042-incr.jsonl.gz.tmp", "nyc-42-incr.jsonl", "NYC-0000000042-incr.jsonl", "nyc-0000000042-incr.jsonl.gz.part"} {
		if _, ok := ParseFileName(bad); ok {
			t.Errorf("ParseFileName(%q) accepted", bad)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
