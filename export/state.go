package export

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"tributary/childdb"
	"tributary/internal/exitcode"
	"tributary/syncfile"
)

// StateMode is the mode of a state file. Only the exporting account needs
// it, and the admin: it decides what the next file contains.
const StateMode os.FileMode = 0o600

// State is what a child remembers between exports (DESIGN.md section 2).
type State struct {
	Prefix   string `json:"prefix"`
	Stream   string `json:"stream"`   // random, made when the state file is created
	Sequence uint64 `json:"sequence"` // of the last file written
	Until    string `json:"until"`    // RFC 3339 UTC: the end of the last file's window
	// Source is the database the stream reads. An export whose connection
	// reaches another one refuses to run: its file would make the master
	// delete every row this database does not have. Nil in a state file
	// written before it was recorded; the next export records it.
	Source *childdb.Origin `json:"source,omitempty"`
	// Said holds, per topic, a digest of the last warning export gave
	// about it (see notices.go), so that a warning is given once per
	// change of its content rather than on every cron run.
	Said map[string]string `json:"said,omitempty"`
}

// DefaultStatePath is where the state of prefix lives when --state is not given.
func DefaultStatePath(outDir, prefix string) string {
	return filepath.Join(outDir, ".tributary-"+prefix+".state")
}

// until parses the window end the state remembers.
func (s *State) until() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s.Until)
	return t
}

// LoadState reads a state file; a missing one is (nil, nil): the next
// export starts a new stream with a full file.
func LoadState(path, prefix string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	var st State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, damagedState(path, err.Error())
	}
	if why := st.problem(); why != "" {
		return nil, damagedState(path, why)
	}
	if st.Prefix != prefix {
		return nil, exitcode.Errorf(exitcode.Usage, "state file %s belongs to prefix %q, not %q: give each prefix its own --state file", path, st.Prefix, prefix)
	}
	return &st, nil
}

func (s *State) problem() string {
	switch {
	case !childdb.PrefixPattern.MatchString(s.Prefix):
		return fmt.Sprintf("prefix %q is not valid", s.Prefix)
	case s.Stream == "":
		return "no stream"
	case s.Sequence == 0:
		return "sequence 0"
	case s.until().IsZero():
		return fmt.Sprintf("until %q is not an RFC 3339 time", s.Until)
	}
	return ""
}

// damagedState is exit 1, not 2: nothing on the command line is wrong, and
// the remedy is for the admin to decide.
func damagedState(path, why string) error {
	return fmt.Errorf("state file %s is damaged (%s): delete it to make the next export start a new stream with a full file", path, why)
}

// newState starts a stream: the first file of a new stream is always full.
func newState(prefix string) (*State, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("make stream id: %w", err)
	}
	return &State{Prefix: prefix, Stream: hex.EncodeToString(b[:])}, nil
}

// SaveState replaces the state file atomically: a temporary file in the same
// directory, fsynced, renamed over the old one, and the directory fsynced,
// so that after a crash the file holds the old state or the new one.
func SaveState(path string, st *State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return replaceFile(path, "state file", append(data, '\n'))
}

// replaceFile puts data at path atomically: a temporary file in the same
// directory, fsynced, renamed over the old one, and the directory fsynced.
// what names the file in errors ("state file").
func replaceFile(path, what string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename there is nothing left to remove
	if err := writeSynced(f, data); err != nil {
		return fmt.Errorf("write %s %s: %w", what, tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return syncfile.SyncDir(dir)
}

// writeSynced writes data, sets the state mode whatever the umask, fsyncs
// and closes f.
func writeSynced(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(StateMode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
