// Package reject names the reasons a sync file is refused with the master
// unchanged (exit 3). Every step of an import builds its refusals around
// these sentinels, so the importer can tell a refused file (the file's
// fault: move it to failed/, exit 3) from a failure (the master's or the
// network's: keep it, exit 1) with errors.Is.
package reject

import (
	"errors"
	"fmt"
)

// The reasons a file is refused.
var (
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
	// ErrMassDelete: the file would delete more of a prefix's rows than
	// --max-delete allows.
	ErrMassDelete = errors.New("mass deletion refused")
)

// reasons lists every sentinel above.
var reasons = []error{ErrGap, ErrStale, ErrConflict, ErrMismatch, ErrUnresolved, ErrBadRecord, ErrInconsistent, ErrData, ErrSource, ErrMassDelete}

// Errorf builds the cause of a refusal around a sentinel. The message must
// never hold a row's values: they are people's personal data.
func Errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// Is reports whether err is a refusal of the file for one of the reasons
// above.
func Is(err error) bool {
	for _, reason := range reasons {
		if errors.Is(err, reason) {
			return true
		}
	}
	return false
}
