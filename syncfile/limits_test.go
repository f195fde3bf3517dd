package syncfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// expectReject reads path and wants a RejectError (exit 3) whose message
// holds want.
func expectReject(t *testing.T, path string, opts ReaderOptions, want string) {
	t.Helper()
	_, err := readAll(path, opts)
	var rej *RejectError
	if !errors.As(err, &rej) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want a RejectError containing %q", err, want)
	}
	if rej.ExitCode() != 3 {
		t.Errorf("exit code %d, want 3", rej.ExitCode())
	}
}

// A line of nothing but opening brackets, well under the line limit, once
// overflowed the goroutine stack in the recursive JSON validator (a fatal
// error no recover can catch: the whole import died). Now the nesting is
// measured first, in the header and in records alike.
func TestDeepNestingRejected(t *testing.T) {
	deep := strings.Repeat("[", 20<<20)
	dir := t.TempDir()

	header := filepath.Join(dir, "header.jsonl")
	if err := os.WriteFile(header, []byte(`{"format":"tributary","version":1,"x":`+deep+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expectReject(t, header, ReaderOptions{}, fmt.Sprintf("JSON nested deeper than %d levels", DefaultMaxDepth))

	record := `{"t":"civicrm_contact","op":"upsert","id":1,"row":{"first_name":` + deep + `}}`
	path := writeFile(t, dir, WriterOptions{Gzip: true}, record)
	expectReject(t, path, ReaderOptions{}, "line 2: JSON nested deeper than")
}

// The depth counts brackets of the JSON structure only: brackets inside
// strings, escaped quotes included, do not count, and a file nested as
// deep as export writes reads at the tightest limit that allows it.
func TestNestingWithinLimit(t *testing.T) {
	inString := `{"t":"civicrm_contact","op":"upsert","id":3,"row":{"first_name":"\"[{` + strings.Repeat("[{", 500) + `"}}`
	path := writeFile(t, t.TempDir(), WriterOptions{}, append([]string{inString}, testRecords...)...)
	// The header's tables are the deepest part: {tables:{t:{columns:[...]}}}.
	if _, err := readAll(path, ReaderOptions{MaxDepth: 4}); !errors.Is(err, io.EOF) {
		t.Fatalf("depth 4: %v", err)
	}
	expectReject(t, path, ReaderOptions{MaxDepth: 3}, "line 1: JSON nested deeper than 3 levels")
}

func TestWithinDepth(t *testing.T) {
	tests := []struct {
		name string
		json string
		ok   bool
	}{
		{"flat", `{"a":1}`, true},
		{"at the limit", `{"a":[{"b":[]}]}`, true},
		{"past the limit", `{"a":[{"b":[[]]}]}`, false},
		{"brackets in a string", `{"a":"[[[[[[[["}`, true},
		// An escaped quote does not end the string: the brackets after it
		// are still inside.
		{"escaped quote", `{"a":"\"[[[[[[[["}`, true},
		// An escaped backslash does end before the quote: what follows is
		// structure.
		{"escaped backslash", `{"a":"\\",` + `"b":[[[[[]]]]]}`, false},
		{"unbalanced closers", `]]]]]]]]]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := withinDepth([]byte(tt.json), 4); ok != tt.ok {
				t.Errorf("withinDepth(%s, 4) = %t, want %t", tt.json, ok, tt.ok)
			}
		})
	}
}

func TestRecordLimit(t *testing.T) {
	path := writeFile(t, t.TempDir(), WriterOptions{Gzip: true}, testRecords...)
	if _, err := readAll(path, ReaderOptions{MaxRecords: 3}); !errors.Is(err, io.EOF) {
		t.Fatalf("3 records at a limit of 3: %v", err)
	}
	expectReject(t, path, ReaderOptions{MaxRecords: 2}, "line 4: more than 2 records")
}

func TestSizeLimit(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%t", gz), func(t *testing.T) {
			path := writeFile(t, t.TempDir(), WriterOptions{Gzip: gz}, testRecords...)
			plain := uncompressed(t, path)
			if _, err := readAll(path, ReaderOptions{MaxBytes: int64(len(plain))}); !errors.Is(err, io.EOF) {
				t.Fatalf("a limit of exactly its size: %v", err)
			}
			expectReject(t, path, ReaderOptions{MaxBytes: int64(len(plain)) - 1}, fmt.Sprintf("file larger than %d bytes uncompressed", len(plain)-1))
		})
	}
}

// A gzip bomb: a small file of valid, highly repetitive records that
// decompresses a thousand times over. The reader would pass every record
// on to import (which would write them all into its transaction before the
// checksum fails at the end); the ratio check stops it early.
func TestGzipBombRejected(t *testing.T) {
	rec := `{"t":"civicrm_contact","op":"upsert","id":1,"row":{"first_name":"` + strings.Repeat("A", 900) + `"}}`
	recs := make([]string, 20000) // 18 MB uncompressed
	for i := range recs {
		recs[i] = rec
	}
	dir := t.TempDir()
	plain := mustRead(t, writeFile(t, dir, WriterOptions{}, recs...))
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(plain)
	zw.Close()
	path := filepath.Join(dir, "bomb.jsonl.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("bomb: %d bytes grow to %d", buf.Len(), len(plain))
	expectReject(t, path, ReaderOptions{RatioFloor: 1 << 20}, "grows more than 200 times")
	// Only above the floor: the same file read with the default floor is
	// too small to be a danger, and verifies.
	if _, err := readAll(path, ReaderOptions{}); !errors.Is(err, io.EOF) {
		t.Fatalf("default floor: %v", err)
	}
}

// Files as export writes them, varied rows in the tens of megabytes, stay
// far below the ratio: no false alarm.
func TestRealisticGzipPassesRatio(t *testing.T) {
	var recs []string
	for i := range 40000 {
		recs = append(recs, fmt.Sprintf(`{"t":"civicrm_contact","op":"upsert","id":%d,"row":{"first_name":"Name %d of the branch","photo":null}}`, i+10, i*7919%100003))
	}
	path := writeFile(t, t.TempDir(), WriterOptions{Gzip: true}, recs...)
	if _, err := readAll(path, ReaderOptions{RatioFloor: 1}); !errors.Is(err, io.EOF) {
		t.Fatalf("realistic file: %v", err)
	}
}

func uncompressed(t *testing.T, path string) []byte {
	t.Helper()
	data := mustRead(t, path)
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}
