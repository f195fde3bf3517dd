package syncfile

import (
	"fmt"

	"tributary/internal/exitcode"
)

// RejectError says a file cannot be applied as it is: damaged, truncated,
// forged, or of an unknown version. Import exits 3 with the master unchanged.
type RejectError struct {
	Path   string
	Line   int64 // 0 when the problem is the whole file's
	Reason string
}

func (e *RejectError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", e.Path, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Reason)
}

// ExitCode makes every rejection exit 3.
func (e *RejectError) ExitCode() int { return exitcode.Rejected }

func reject(path string, line int64, format string, args ...any) error {
	return &RejectError{Path: path, Line: line, Reason: fmt.Sprintf(format, args...)}
}
