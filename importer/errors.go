package importer

import (
	"errors"
	"fmt"

	"tributary/importer/reconcile"
	"tributary/importer/reject"
	"tributary/internal/exitcode"
)

// Sentinel errors for the conditions a caller may act on; they are wrapped
// in a *RejectError (exit 3) or an exit-code error, so use errors.Is. The
// reasons a file is refused are defined in package reject, where every
// step of the import builds its refusals; they are the same values here.
var (
	// ErrLocked: another import of the same prefix holds the lock (exit 75).
	ErrLocked = errors.New("another import of this prefix is running")
	// ErrGap: files between the last applied one and this one are missing.
	ErrGap = reject.ErrGap
	// ErrStale: the file is older than what the master already holds.
	ErrStale = reject.ErrStale
	// ErrConflict: the same stream and sequence was applied with another checksum.
	ErrConflict = reject.ErrConflict
	// ErrMismatch: the file names a table or column the master's map lacks,
	// or describes a table differently.
	ErrMismatch = reject.ErrMismatch
	// ErrUnresolved: a reference points at a row the master has no mapping for.
	ErrUnresolved = reject.ErrUnresolved
	// ErrBadRecord: a record is malformed in a way the reader does not check.
	ErrBadRecord = reject.ErrBadRecord
	// ErrInconsistent: the file contradicts itself (a row sent and deleted).
	ErrInconsistent = reject.ErrInconsistent
	// ErrData: the master cannot store a value of the file exactly.
	ErrData = reject.ErrData
	// ErrSource: the file comes from another child database than the
	// earlier files of its stream.
	ErrSource = reject.ErrSource
	// ErrMassDelete: the file would delete more of a prefix's rows than
	// --max-delete allows (the cause is a *MassDeleteError).
	ErrMassDelete = reject.ErrMassDelete
)

// DeleteLimit bounds the rows one file may delete in any table, as a
// percentage of the rows the prefix holds there before the file; see
// reconcile.DeleteLimit.
type DeleteLimit = reconcile.DeleteLimit

// MassDeleteError is the cause of a rejection by --max-delete; see
// reconcile.MassDeleteError.
type MassDeleteError = reconcile.MassDeleteError

// DefaultMaxDelete is the share of a table's rows of a prefix that one
// file may delete when Options.MaxDelete is not set (DESIGN.md section 5,
// step 2a).
const DefaultMaxDelete = reconcile.DefaultMaxDelete

// ParseDeleteLimit reads a --max-delete value: a percentage from 0 to 100,
// with or without the % sign ("10%", "2.5", "100%").
func ParseDeleteLimit(s string) (DeleteLimit, error) { return reconcile.ParseDeleteLimit(s) }

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
	if reject.Is(err) {
		return &RejectError{Path: path, Err: err}
	}
	return err
}
