package database

import "strings"

// QuoteIdent quotes a MySQL identifier (table or column name) in backticks,
// doubling any backtick inside it, so that no name read from a map or a sync
// file can ever end the identifier and inject SQL.
func QuoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// QuoteIdents quotes each name and joins them with ", ".
func QuoteIdents(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = QuoteIdent(n)
	}
	return strings.Join(quoted, ", ")
}

// Placeholders returns n comma-separated "?" for a bound-parameter list.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
