package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Digests are what `detect: checksum` remembers between exports (DESIGN.md
// section 3, "Changes that move no stamp"): per table, a digest per chunk
// of its rows as the last file left them. They live beside the state file
// (DigestPath) and belong to one file of one stream: they are used only
// when prefix, stream and sequence are the state's.
type Digests struct {
	Prefix   string `json:"prefix"`
	Stream   string `json:"stream"`
	Sequence uint64 `json:"sequence"` // of the file whose rows they describe
	// Audited is the sequence of the last file that audited the track
	// tables with detect: checksum (--audit-every).
	Audited uint64                   `json:"audited,omitempty"`
	Tables  map[string]*TableDigests `json:"tables"`
}

// TableDigests are one table's chunk digests. Shape says what was hashed
// and how it was chunked: digests of another shape (the map changed) are
// not comparable, and the table is sent as if they were lost.
type TableDigests struct {
	Shape  string            `json:"shape"`
	Chunks map[string]string `json:"chunks"` // chunk -> "rows:hash"
}

// DigestPath is where the digests of the state file at statePath live.
func DigestPath(statePath string) string { return statePath + ".digests" }

// digestSumPrefix starts the digest file's last line, the SHA-256 of the
// JSON line before it: a torn or edited file is told from a valid one.
const digestSumPrefix = "sha256 "

// LoadDigests reads a digest file. It never fails: a file that is missing,
// unreadable or damaged gives nil and says why, and the export then sends
// the tables whole, which is always safe.
func LoadDigests(path string) (*Digests, string) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "it is missing"
	}
	if err != nil {
		return nil, "it cannot be read: " + err.Error()
	}
	body, sumLine, ok := bytes.Cut(data, []byte("\n"+digestSumPrefix))
	if !ok {
		return nil, "it is damaged (no checksum line)"
	}
	sum := sha256.Sum256(append(body, '\n'))
	if string(bytes.TrimSpace(sumLine)) != hex.EncodeToString(sum[:]) {
		return nil, "it is damaged (its checksum does not match)"
	}
	var d Digests
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, "it is damaged (" + err.Error() + ")"
	}
	return &d, ""
}

// usableWith says why d cannot be compared with the database as the
// state st left it, or "" when it can: the digests must describe the
// file st records.
func (d *Digests) usableWith(st *State) string {
	switch {
	case st == nil:
		return "a new stream starts"
	case d.Prefix != st.Prefix || d.Stream != st.Stream:
		return "it belongs to another stream"
	case d.Sequence != st.Sequence:
		return fmt.Sprintf("it describes file %d, not file %d, the last one written (an export was interrupted)", d.Sequence, st.Sequence)
	}
	return ""
}

// SaveDigests replaces the digest file atomically, as SaveState does the
// state: a crash leaves the old digests or the new ones, never a mix.
func SaveDigests(path string, d *Digests) error {
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	data := append(body, digestSumPrefix+hex.EncodeToString(sum[:])+"\n"...)
	return replaceFile(path, "digest file", data)
}
