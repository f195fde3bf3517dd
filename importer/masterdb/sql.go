package importer

import (
	"errors"
	"strings"

	"tributary/internal/database"
)

// The builders below are pure: names are quoted with database.QuoteIdent,
// values are always "?" placeholders. They return an error for input that
// would make a broken statement rather than building it.

var errNoColumns = errors.New("no columns")

// insertSQL builds a multi-row INSERT of n rows; with returning set it asks
// for the master IDs the server assigned (MariaDB INSERT ... RETURNING), in
// the order of the rows.
func insertSQL(table string, cols []string, n int, returning string) (string, error) {
	if len(cols) == 0 || n < 1 {
		return "", errNoColumns
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + database.QuoteIdent(table) + " (" + database.QuoteIdents(cols) + ") VALUES ")
	tuple := "(" + database.Placeholders(len(cols)) + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	if returning != "" {
		b.WriteString(" RETURNING " + database.QuoteIdent(returning))
	}
	return b.String(), nil
}

// updateSQL builds an UPDATE of one row found by its key columns.
func updateSQL(table string, cols, key []string) (string, error) {
	if len(cols) == 0 || len(key) == 0 {
		return "", errNoColumns
	}
	return "UPDATE " + database.QuoteIdent(table) + " SET " + assignments(cols) + " WHERE " + keyMatch(key), nil
}

// updateCaseSQL builds an UPDATE of n rows of a table with a one-column
// key: each column is set to CASE key WHEN ? THEN ? ... END, and the rows
// are those whose key is one of n values. Arguments: per column, n pairs
// (key, value); then the n keys.
func updateCaseSQL(table string, cols []string, key string, n int) (string, error) {
	if len(cols) == 0 || key == "" || n < 1 {
		return "", errNoColumns
	}
	var b strings.Builder
	k := database.QuoteIdent(key)
	whens := strings.Repeat(" WHEN ? THEN ?", n)
	b.WriteString("UPDATE " + database.QuoteIdent(table) + " SET ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(database.QuoteIdent(c) + " = CASE " + k + whens + " END")
	}
	b.WriteString(" WHERE " + k + " IN (" + database.Placeholders(n) + ")")
	return b.String(), nil
}

// assignments is "`a` = ?, `b` = ?".
func assignments(cols []string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = database.QuoteIdent(c) + " = ?"
	}
	return strings.Join(parts, ", ")
}

// keyMatch is "`a` = ? AND `b` = ?".
func keyMatch(key []string) string {
	parts := make([]string, len(key))
	for i, c := range key {
		parts[i] = database.QuoteIdent(c) + " = ?"
	}
	return strings.Join(parts, " AND ")
}

// anyKeyMatch matches any of n composite keys: "(`a` = ? AND `b` = ?) OR ...",
// a form the range optimizer turns into index look-ups.
func anyKeyMatch(key []string, n int) string {
	one := "(" + keyMatch(key) + ")"
	parts := make([]string, n)
	for i := range parts {
		parts[i] = one
	}
	return strings.Join(parts, " OR ")
}

// selectInSQL selects cols of the rows whose column in holds one of n values.
func selectInSQL(table string, cols []string, in string, n int) (string, error) {
	if len(cols) == 0 || n < 1 {
		return "", errNoColumns
	}
	return "SELECT " + database.QuoteIdents(cols) + " FROM " + database.QuoteIdent(table) +
		" WHERE " + database.QuoteIdent(in) + " IN (" + database.Placeholders(n) + ")", nil
}

// selectPolySQL is selectInSQL restricted to one discriminator value.
func selectPolySQL(table string, cols []string, disc, in string, n int) (string, error) {
	q, err := selectInSQL(table, cols, in, n)
	if err != nil {
		return "", err
	}
	return q + " AND " + database.QuoteIdent(disc) + " = ?", nil
}

// selectKeysSQL selects the key columns of the rows with any of n keys.
func selectKeysSQL(table string, key []string, n int) (string, error) {
	if len(key) == 0 || n < 1 {
		return "", errNoColumns
	}
	return "SELECT " + database.QuoteIdents(key) + " FROM " + database.QuoteIdent(table) + " WHERE " + anyKeyMatch(key, n), nil
}

// deleteInSQL deletes the rows whose column in holds one of n values.
func deleteInSQL(table, in string, n int) (string, error) {
	if n < 1 {
		return "", errNoColumns
	}
	return "DELETE FROM " + database.QuoteIdent(table) + " WHERE " + database.QuoteIdent(in) + " IN (" + database.Placeholders(n) + ")", nil
}

// deleteKeysSQL deletes the rows with any of n composite keys.
func deleteKeysSQL(table string, key []string, n int) (string, error) {
	if len(key) == 0 || n < 1 {
		return "", errNoColumns
	}
	return "DELETE FROM " + database.QuoteIdent(table) + " WHERE " + anyKeyMatch(key, n), nil
}

// setNullInSQL sets cols to NULL in the rows whose column in holds one of n values.
func setNullInSQL(table string, cols []string, in string, n int) (string, error) {
	if len(cols) == 0 || n < 1 {
		return "", errNoColumns
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = database.QuoteIdent(c) + " = NULL"
	}
	return "UPDATE " + database.QuoteIdent(table) + " SET " + strings.Join(parts, ", ") +
		" WHERE " + database.QuoteIdent(in) + " IN (" + database.Placeholders(n) + ")", nil
}

// countJoinedSQL counts table's rows whose column via points at a row the
// mapping table maps for entity (the one argument).
func countJoinedSQL(table, via, mappingTable string) (string, error) {
	if via == "" {
		return "", errNoColumns
	}
	return "SELECT COUNT(*) FROM " + database.QuoteIdent(table) + " t JOIN " +
		database.QuoteIdent(mappingTable) + " m ON m.entity_table = ? AND m.master_entity_id = t." + database.QuoteIdent(via), nil
}

// selectJoinedSQL selects cols of table's rows whose column via points at a
// row that the mapping table maps for entity: the rows of one prefix.
func selectJoinedSQL(table string, cols []string, via, mappingTable string) (string, error) {
	if len(cols) == 0 {
		return "", errNoColumns
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = "t." + database.QuoteIdent(c)
	}
	return "SELECT " + strings.Join(quoted, ", ") + " FROM " + database.QuoteIdent(table) + " t JOIN " +
		database.QuoteIdent(mappingTable) + " m ON m.entity_table = ? AND m.master_entity_id = t." + database.QuoteIdent(via), nil
}
