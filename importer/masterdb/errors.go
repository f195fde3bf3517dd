package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"tributary/internal/database"

	"github.com/go-sql-driver/mysql"
)

// serverError is a server error with its message rewritten so that it never
// holds a row's values (MySQL quotes them in some messages: "Duplicate
// entry 'ann@example.org' for key ..."). It still unwraps to the driver's
// error, so database.IsRetryable and errors.As keep working.
type serverError struct {
	number uint16
	msg    string
	data   bool // the master cannot store the file's value: reject the file
	orig   error
}

func (e *serverError) Error() string { return fmt.Sprintf("server error %d: %s", e.number, e.msg) }

func (e *serverError) Unwrap() []error {
	if e.data {
		return []error{ErrData, e.orig}
	}
	return []error{e.orig}
}

var (
	dupKeyRE      = regexp.MustCompile(`for key '([^']*)'$`)
	incorrectRE   = regexp.MustCompile(`^Incorrect (.{1,40}?) value: .* for column (?:` + "`[^`]*`" + `\.)*` + "`([^`]*)`" + ` at row \d+$`)
	quotedValueRE = regexp.MustCompile(`'[^']*'`)
)

// dataErrors are server errors that mean "this value does not fit this
// master": retrying cannot help, the file is rejected.
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

// sqlError rewrites a driver error for messages; other errors pass through.
func sqlError(err error) error {
	var my *mysql.MySQLError
	if err == nil || !errors.As(err, &my) {
		return err
	}
	return &serverError{number: my.Number, msg: scrubMessage(my.Number, my.Message), data: dataErrors[my.Number], orig: err}
}

// scrubMessage keeps identifiers (columns, keys, constraints) and drops
// anything that may be a value.
func scrubMessage(number uint16, msg string) string {
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

// interrupted reports whether err comes from the context being cancelled,
// either directly or as the driver's broken connection after it.
func interrupted(ctx context.Context, err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || ctx.Err() != nil)
}

// warningCodes are the notes and warnings a write gives when the master
// stored something other than the file's value (rounded a DECIMAL, cut a
// fraction of a second): strict mode makes most of them errors, not all.
var warningCodes = map[uint16]bool{1264: true, 1265: true, 1292: true, 1366: true, 1406: true, 1301: true, 1048: true}

// checkWarnings rejects the file when the last write was not exact. It is
// used only when the child's schema differs from the master's (their
// fingerprints differ): with identical column types no value can change.
func (f *fileRun) checkWarnings(ctx context.Context, table string) error {
	if !f.exact {
		return nil
	}
	var n int
	if err := f.tx.QueryRowContext(ctx, "SELECT @@warning_count").Scan(&n); err != nil || n == 0 {
		return sqlError(err)
	}
	rows, err := f.tx.QueryContext(ctx, "SHOW WARNINGS")
	if err != nil {
		return sqlError(err)
	}
	return sqlError(database.ScanRows(rows, func(rows *sql.Rows) error {
		var level, msg string
		var code uint16
		if err := rows.Scan(&level, &code, &msg); err != nil {
			return err
		}
		if warningCodes[code] {
			return rejectf(ErrData, "table %s: the master cannot store a value of the file exactly (%s %d: %s); the child's and the master's column types differ",
				table, strings.ToLower(level), code, scrubMessage(code, msg))
		}
		return nil
	}))
}
