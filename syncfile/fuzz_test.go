package syncfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader: every input must either
// verify or fail with a RejectError (which import turns into exit 3) —
// never a panic, never another kind of error.
//
// The seeds are the test files below and real exports of a small generated
// CiviCRM child in testdata/ (see TestUpdateSeeds).
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
	for _, sample := range []string{
		`{"format":"tributary","version":1,"x":[[[[[[[[[[[[]]]]]]]]]]]]}` + "\n",
		`{"end":true,"records":0,"sha256":""}` + "\n",
	} {
		f.Add([]byte(sample))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, opts := range []ReaderOptions{
			{MaxLineBytes: 1 << 20},
			// The seeds' signing key, and limits small enough that the
			// fuzzer reaches each of them.
			{SignKey: []byte(seedKey), MaxLineBytes: 4096, MaxDepth: 4, MaxBytes: 32 << 10, MaxRecords: 50, MaxRatio: 20, RatioFloor: 1},
		} {
			_, err := readAll(path, opts)
			var rej *RejectError
			if !errors.Is(err, io.EOF) && !errors.As(err, &rej) {
				t.Fatalf("neither verified nor rejected: %v", err)
			}
		}
	})
}

// seedKey signs testdata/civicrm-signed-full.jsonl.
const seedKey = "fuzz seed key"

// TestSeedsVerify: the seed files are real, whole exports that the reader
// verifies under its default limits (and the signed one under its key),
// so the fuzzer starts from the inside of the format, not its edge.
func TestSeedsVerify(t *testing.T) {
	seeds, _ := filepath.Glob("testdata/*.jsonl*")
	if len(seeds) < 3 {
		t.Fatalf("seed files: %v; run TestUpdateSeeds", seeds)
	}
	for _, s := range seeds {
		opts := ReaderOptions{}
		if strings.Contains(s, "signed") {
			opts.SignKey = []byte(seedKey)
		}
		if _, err := readAll(s, opts); !errors.Is(err, io.EOF) {
			t.Errorf("%s: %v", s, err)
		}
	}
}
