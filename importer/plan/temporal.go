package plan

import (
	"strconv"
	"strings"

	"tributary/schema"
)

// fractionalDigits is how many digits of a second the master's column
// keeps: 0 for DATETIME, 3 for DATETIME(3); -1 for a column that is not a
// DATETIME, TIMESTAMP or TIME.
func fractionalDigits(col *schema.Column) int {
	switch col.DataType {
	case "datetime", "timestamp", "time":
	default:
		return -1
	}
	open := strings.IndexByte(col.ColumnType, '(')
	end := strings.IndexByte(col.ColumnType, ')')
	if open < 0 || end < open {
		return 0
	}
	n, err := strconv.Atoi(col.ColumnType[open+1 : end])
	if err != nil {
		return 0
	}
	return n
}

// cutsFraction reports whether storing value in a column that keeps digits
// fractional digits would drop a non-zero digit. MariaDB drops them without
// an error or a warning, strict mode or not, so import must look itself.
func cutsFraction(value string, digits int) bool {
	dot := strings.LastIndexByte(value, '.')
	if dot < 0 {
		return false
	}
	fraction := value[dot+1:]
	if len(fraction) <= digits {
		return false
	}
	return strings.Trim(fraction[digits:], "0") != ""
}
