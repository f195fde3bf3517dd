package export

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"tributary/internal/exitcode"
)

func TestLoadState(t *testing.T) {
	tests := []struct {
		name     string
		content  string // "" means no file
		wantErr  string
		wantCode int
	}{
		{name: "missing: new stream", content: ""},
		{name: "good", content: `{"prefix":"nyc","stream":"ab","sequence":3,"until":"2024-05-01T12:00:00Z"}`},
		{name: "not JSON", content: `{"prefix":`, wantErr: "delete it", wantCode: exitcode.Failure},
		{name: "empty file", content: "\n", wantErr: "is damaged", wantCode: exitcode.Failure},
		{name: "bad until", content: `{"prefix":"nyc","stream":"ab","sequence":3,"until":"yesterday"}`, wantErr: "is damaged", wantCode: exitcode.Failure},
		{name: "unknown field", content: `{"prefix":"nyc","stream":"ab","sequence":3,"until":"2024-05-01T12:00:00Z","x":1}`, wantErr: "is damaged", wantCode: exitcode.Failure},
		{name: "another prefix", content: `{"prefix":"bos","stream":"ab","sequence":3,"until":"2024-05-01T12:00:00Z"}`, wantErr: `belongs to prefix "bos"`, wantCode: exitcode.Usage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state")
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			st, err := LoadState(path, "nyc")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if (tt.content == "") != (st == nil) {
					t.Errorf("state = %+v", st)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if got := exitcode.Code(err); got != tt.wantCode {
				t.Errorf("exit code = %d, want %d", got, tt.wantCode)
			}
		})
	}
}

// The state file is 0600 whatever the umask, and replaces the old one.
func TestSaveStateMode(t *testing.T) {
	for _, umask := range []int{0, 0o077} {
		old := syscall.Umask(umask)
		path := filepath.Join(t.TempDir(), "state")
		if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		st := &State{Prefix: "nyc", Stream: "ab", Sequence: 1, Until: "2024-05-01T12:00:00Z"}
		err := SaveState(path, st)
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != StateMode {
			t.Errorf("umask %o: mode %o, want %o", umask, info.Mode().Perm(), StateMode)
		}
		got, err := LoadState(path, "nyc")
		if err != nil || !reflect.DeepEqual(got, st) {
			t.Errorf("read back %+v, %v", got, err)
		}
		left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
		if len(left) > 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
}

func TestLockIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.lock")
	first, err := acquireLock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = acquireLock(path)
	if !errors.Is(err, ErrLocked) || exitcode.Code(err) != exitcode.Locked {
		t.Fatalf("second lock: err = %v (code %d), want ErrLocked and 75", err, exitcode.Code(err))
	}
	first.release()
	again, err := acquireLock(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.release()
}
