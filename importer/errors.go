package importer

import (
	"errors"
	"fmt"

	"tributary/internal/exitcode"
)

// Sentinel errors for the conditions a caller may act on; they are wrapped
// in a *RejectError (exit 3) or an exit-code error, so use errors.Is.
var (
	// ErrLocked: another import of the same prefix holds the lock (exit 75).
	ErrLocked = errors.New("another import of this prefix is running")
	// ErrGap: files between the last applied one and this one are missing.
	ErrGap = errors.New("gap in sequence")
	// ErrStale: the file is older than what the master already holds.
	ErrStale = errors.New("stale file")
	// ErrConflict: the same stream and sequence was applied with another checksum.
	ErrConflict = errors.New("conflicting file")
	// ErrMismatch: the file names a table or column the master's map lacks,
	// or describes a table differently.
	ErrMismatch = errors.New("file does not fit the master's map")
	// ErrUnresolved: a reference points at a row the master has no mapping for.
	ErrUnresolved = errors.New("unresolved reference")
	// ErrBadRecord: a record is malformed in a way the reader does not check.
	ErrBadRecord = errors.New("bad record")
	// ErrInconsistent: the file contradicts itself (a row sent and deleted).
	ErrInconsistent = errors.New("inconsistent file")
	// ErrData: the master cannot store a value of the file exactly.
	ErrData = errors.New("value not storable")
	// ErrSource: the file comes from another child database than the
	// earlier files of its stream.
	ErrSource = errors.New("file from another database")
)

// RejectError says why one file was refused. The master is unchanged and
// the import exits 3. Its message never holds a row's values.
type RejectError struct {
	Path string
	Err  error
}

func (e *RejectError) Error() string { return fmt.Sprintf("%s: rejected: %v", e.Path, e.Err) }

// Unwrap exposes the sentinel (ErrGap, ErrStale, ...).
func (e *RejectError) Unwrap() error { return e.Err }

// ExitCode makes every rejection exit 3.
func (e *RejectError) ExitCode() int { return exitcode.Rejected }

// rejectf builds the cause of a rejection around a sentinel.
func rejectf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// isReject reports whether err already says "rejected, exit 3".
func isReject(err error) bool {
	return exitcode.Code(err) == exitcode.Rejected
}

// asReject turns a rejection cause into a *RejectError for path, leaving
// other errors (and errors that already carry a code) alone.
func asReject(path string, err error) error {
	if err == nil {
		return nil
	}
	var rej *RejectError
	if errors.As(err, &rej) {
		return err
	}
	for _, sentinel := range []error{ErrGap, ErrStale, ErrConflict, ErrMismatch, ErrUnresolved, ErrBadRecord, ErrInconsistent, ErrData, ErrSource, ErrMassDelete} {
		if errors.Is(err, sentinel) {
			return &RejectError{Path: path, Err: err}
		}
	}
	return err
}
