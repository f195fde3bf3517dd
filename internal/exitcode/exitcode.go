// Package exitcode holds tributary's exit codes (DESIGN.md section 1) and the
// typed error that carries one from deep inside a command up to main.
package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes are a contract: cron lines and wrapper scripts act on them.
const (
	OK          = 0   // success, also "file already applied"
	Failure     = 1   // anything else that went wrong
	Usage       = 2   // bad flags, bad map, bad configuration
	Rejected    = 3   // an input file was refused; the master is unchanged
	Locked      = 75  // another run holds the lock; try again later
	Interrupted = 130 // SIGINT/SIGTERM; everything was rolled back
)

// Error is an error that knows which exit code it deserves.
type Error struct {
	Code int
	Err  error
	// Told: everything the user needs to know was said already (or, for
	// something said on an earlier run, on purpose not again), so main
	// exits with Code without a line of its own.
	Told bool
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is and errors.As see the cause.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode reports the code main should exit with.
func (e *Error) ExitCode() int { return e.Code }

// Wrap gives err an exit code; a nil err stays nil.
func Wrap(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Told gives err an exit code that main reports without printing err; a
// nil err stays nil.
func Told(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err, Told: true}
}

// WasTold reports whether err was made by Told: main prints nothing for it.
func WasTold(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Told
}

// Errorf formats an error with an exit code, wrapping %w arguments as fmt.Errorf does.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Code maps an error to its exit code: the outermost typed code wins, an
// interrupted context means 130, and anything else is a plain failure.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var coder interface{ ExitCode() int }
	if errors.As(err, &coder) {
		return coder.ExitCode()
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Failure
}
