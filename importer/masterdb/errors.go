package masterdb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"

	"tributary/importer/reject"
	"tributary/internal/database"
)

// ServerError is a server error with its message rewritten so that it never
// holds a row's values (MySQL quotes them in some messages: "Duplicate
// entry 'ann@example.org' for key ..."). It still unwraps to the driver's
// error, so database.IsRetryable and errors.As keep working.
type ServerError struct {
	number uint16
	msg    string
	data   bool // the master cannot store the file's value: reject the file
	orig   error
}

// Number is the server's error number.
func (e *ServerError) Number() uint16 { return e.number }

func (e *ServerError) Error() string { return fmt.Sprintf("server error %d: %s", e.number, e.msg) }

func (e *ServerError) Unwrap() []error {
	if e.data {
		return []error{reject.ErrData, e.orig}
	}
	return []error{e.orig}
}

var (
	dupKeyRE      = regexp.MustCompile(`for key '([^']*)'$`)
	incorrectRE   = regexp.MustCompile(`^Incorrect (.{1,40}?) value: .* for column (?:` + "`[^`]*`" + `\.)*` + "`([^`]*)`" + ` at row \d+$`)
	quotedValueRE = regexp.MustCompile(`'[^']*'`)
)

// dataErrors are server errors that mean "this value does not fit this
// master": retrying cannot help, the file is rejected (reject.ErrData).
var dataErrors = map[uint16]bool{
	1048: true, // column cannot be null
	1062: true, // duplicate entry
	1264: true, // out of range
	1265: true, // data truncated
	1292: true, // incorrect or truncated value
	1300: true, // invalid character string
	1364: true, // field has no default value
	1366: true, // incorrect value for column
	1367: true, // illegal value
	1406: true, // data too long
	1451: true, // a foreign key of the master forbids the delete
	1452: true, // a foreign key of the master has no parent row
	4025: true, // CHECK constraint failed
}

// SQLError rewrites a driver error so that its message holds no value of
// a row; other errors pass through.
func SQLError(err error) error {
	var my *mysql.MySQLError
	var done *ServerError
	if err == nil || errors.As(err, &done) || !errors.As(err, &my) {
		return err
	}
	return &ServerError{number: my.Number, msg: ScrubMessage(my.Number, my.Message), data: dataErrors[my.Number], orig: err}
}

// ScrubMessage keeps identifiers (columns, keys, constraints) and drops
// anything that may be a value.
func ScrubMessage(number uint16, msg string) string {
	switch number {
	case 1048, 1264, 1265, 1364, 1406, 1451, 1452, 4025:
		return msg // these name columns or constraints, never values
	case 1062:
		if m := dupKeyRE.FindStringSubmatch(msg); m != nil {
			return fmt.Sprintf("duplicate value in unique key '%s': the master already has a row with that value (of this child, of another child, or its own)", m[1])
		}
		return "duplicate value in a unique key"
	case 1366, 1292:
		if m := incorrectRE.FindStringSubmatch(msg); m != nil {
			return fmt.Sprintf("incorrect %s value for column '%s'", m[1], m[2])
		}
		if strings.HasPrefix(msg, "Truncated incorrect") {
			return "a value had to be truncated to fit its type"
		}
		return "incorrect value for its column"
	case 1300:
		return "invalid character string for the column's character set"
	case 1367:
		return "illegal value for its type"
	}
	return quotedValueRE.ReplaceAllStringFunc(msg, keepIdentifier(msg))
}

// keepIdentifier returns a replacer that keeps a quoted string when the
// word before it says it is a name, and hides it otherwise.
func keepIdentifier(msg string) func(string) string {
	return func(quoted string) string {
		i := strings.Index(msg, quoted)
		before := strings.ToLower(strings.TrimSpace(msg[:max(i, 0)]))
		for _, word := range []string{"column", "key", "field", "table", "constraint", "database", "user", "index", "function", "procedure", "variable"} {
			if strings.HasSuffix(before, word) {
				return quoted
			}
		}
		return "'…'"
	}
}

// StatementRefused reports an error after which the transaction goes on:
// the server refused one statement's values (a unique key, strict mode, a
// foreign key) and rolled back that statement alone. A deadlock, a lock
// wait timeout or a lost connection is not one: nothing may follow those.
func StatementRefused(ctx context.Context, err error) bool {
	return ctx.Err() == nil && dataErrors[database.ErrorNumber(err)]
}

// IsUniqueConflict reports a duplicate-key error of the server.
func IsUniqueConflict(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.number == 1062
}

// DuplicateKey returns the name of the unique key a duplicate-key error
// names (without the table MySQL 8 puts before it).
func DuplicateKey(err error) (string, bool) {
	var my *mysql.MySQLError
	if !errors.As(err, &my) || my.Number != 1062 {
		return "", false
	}
	m := dupKeyRE.FindStringSubmatch(my.Message)
	if m == nil {
		return "", false
	}
	name := m[1]
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return name, true
}

// UniqueConflict is a duplicate-key error that the import finds itself,
// before the server would (a match policy finding the value held by a row
// the file may be about to delete): IsUniqueConflict reports it, so the
// file is tried again with its deletions first.
func UniqueConflict(key string) error {
	msg := fmt.Sprintf("duplicate value in unique key '%s'", key)
	return &ServerError{number: 1062, msg: msg, data: true, orig: errors.New(msg)}
}
