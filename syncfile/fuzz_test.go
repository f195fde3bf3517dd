package syncfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader: every input must either
// verify or fail with a RejectError (which import turns into exit 3) —
// never a panic, never another kind of error.
func FuzzReader(f *testing.F) {
	dir := f.TempDir()
	for _, gz := range []bool{false, true} {
		h := testHeader()
		w, err := Create(dir, FileName(h.Prefix, h.Sequence, h.Mode, gz), WriterOptions{Gzip: gz})
		if err != nil {
			f.Fatal(err)
		}
		w.WriteHeader(h)
		for _, r := range testRecords {
			w.WriteRecord([]byte(r))
		}
		path, err := w.Commit()
		if err != nil {
			f.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		f.Add(data)
	}
	seeds, _ := filepath.Glob("testdata/*.jsonl*")
	for _, s := range seeds {
		data, _ := os.ReadFile(s)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := readAll(path, ReaderOptions{MaxLineBytes: 1 << 20})
		var rej *RejectError
		if !errors.Is(err, io.EOF) && !errors.As(err, &rej) {
			t.Fatalf("neither verified nor rejected: %v", err)
		}
	})
}
