package database

import "strings"

// RowHash is the SQL select list of an aggregate digest of rows: the
// number of rows, then a 64-bit hash of them (0 for no rows), the XOR of
// each row's hash, a row's hash being the first 64 bits of the MD5 of its
// values. exprs are the SQL expressions of the row's values. Each value is
// taken as bytes and QUOTEd, so NULL becomes the bare word NULL (unlike
// the string 'NULL', which is quoted), and the quotes keep values from
// running together: ('a,b', 'c') and ('a', 'b,c') hash differently. The
// XOR makes the digest independent of row order, so the server computes
// it in one pass with GROUP BY; rows are told apart by their keys, which
// are among exprs, so no two rows of a table cancel out.
//
// Both verify (child against master) and export's change detection
// (this run against the last) use it, so both see the same change.
func RowHash(exprs []string) string {
	vals := make([]string, len(exprs))
	for i, e := range exprs {
		vals[i] = "QUOTE(CAST(" + e + " AS BINARY))"
	}
	row := "CONCAT_WS(',', " + strings.Join(vals, ", ") + ")"
	return "COUNT(*), COALESCE(BIT_XOR(CAST(CONV(LEFT(MD5(" + row + "), 16), 16, 10) AS UNSIGNED)), 0)"
}
