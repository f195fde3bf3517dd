package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tributary/syncfile"
)

// parts is a sync file taken apart, to be changed and written again with a
// valid trailer: the way to build files that are well-formed but wrong.
type parts struct {
	header  syncfile.Header
	records []string
}

// readParts splits a plain (not gzip) sync file into header and records.
func readParts(t *testing.T, path string) *parts {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(readFile(t, path)), "\n"), "\n")
	p := &parts{}
	if err := json.Unmarshal([]byte(lines[0]), &p.header); err != nil {
		t.Fatal(err)
	}
	p.records = append(p.records, lines[1:len(lines)-1]...)
	return p
}

// write writes the parts as a complete file under its contract name in a
// fresh directory, and returns its path.
func (p *parts) write(t *testing.T) string {
	t.Helper()
	h := p.header
	w, err := syncfile.Create(t.TempDir(), syncfile.FileName(h.Prefix, h.Sequence, h.Mode, false), syncfile.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader(&h); err != nil {
		t.Fatal(err)
	}
	for _, r := range p.records {
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

// clone copies the parts, header tables included.
func (p *parts) clone() *parts {
	q := &parts{header: p.header, records: append([]string(nil), p.records...)}
	q.header.Tables = map[string]syncfile.TableInfo{}
	for k, v := range p.header.Tables {
		v.Columns = append([]string(nil), v.Columns...)
		q.header.Tables[k] = v
	}
	return q
}

// replace edits every record line that contains old.
func (p *parts) replace(old, new string) *parts {
	for i, r := range p.records {
		p.records[i] = strings.ReplaceAll(r, old, new)
	}
	return p
}

// rewriteRaw copies a file with fn applied to its bytes (no new trailer):
// the way to damage a file.
func rewriteRaw(t *testing.T, path string, fn func([]byte) []byte) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(out, fn(readFile(t, path)), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// lineCount counts a file's lines.
func lineCount(t *testing.T, path string) int {
	t.Helper()
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, path)))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		n++
	}
	return n
}
