package export

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"tributary/internal/exitcode"
)

// ErrLocked says another export of the same prefix holds the lock.
var ErrLocked = errors.New("another export of this prefix is running")

// lockFile is an flock held on <state>.lock for the whole export. The kernel
// drops it when the process dies, so a crashed run never leaves a stale
// lock, and the file itself is never removed (removing a lock file races
// with the next run opening it).
type lockFile struct{ f *os.File }

// acquireLock takes the lock without waiting: a busy lock is exit 75, so
// cron simply tries again at its next run.
func acquireLock(path string) (*lockFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, StateMode)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, exitcode.Wrap(exitcode.Locked, fmt.Errorf("%w (%s is locked); try again later", ErrLocked, path))
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &lockFile{f: f}, nil
}

// release drops the lock.
func (l *lockFile) release() { l.f.Close() }

// StateLock is the prefix's export lock, taken before Run by a caller
// that wants a second export to exit 75 at once, before it connects to the
// database or reads the map.
type StateLock struct{ l *lockFile }

// LockState takes the lock beside the state file (STATE.lock) without
// waiting; a busy lock is ErrLocked with exit code 75.
func LockState(statePath string) (*StateLock, error) {
	l, err := acquireLock(statePath + ".lock")
	if err != nil {
		return nil, err
	}
	return &StateLock{l: l}, nil
}

// Release drops the lock.
func (s *StateLock) Release() { s.l.release() }
