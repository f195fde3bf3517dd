package masterdb

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"tributary/internal/database"
)

// The builders below are the import's only source of SQL text. Each is a
// pure function that builds a whole statement and returns it with its
// arguments in the order the statement binds them: names are quoted with
// database.QuoteIdent, values are always "?" placeholders, nothing is
// patched into a statement afterwards. Input that would make a broken
// statement is an error, not a statement.

var errNoColumns = errors.New("no columns")

func errShape(what string) error { return fmt.Errorf("statement builder: %s", what) }

// Insert is a multi-row INSERT of rows (each holding the values of cols).
// With returning set it asks for the master IDs the server assigned
// (MariaDB INSERT ... RETURNING), in the order of the rows.
func Insert(table string, cols []string, rows [][]any, returning string) (string, []any, error) {
	if len(cols) == 0 || len(rows) == 0 {
		return "", nil, errNoColumns
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + database.QuoteIdent(table) + " (" + database.QuoteIdents(cols) + ") VALUES ")
	tuple := "(" + database.Placeholders(len(cols)) + ")"
	args := make([]any, 0, len(rows)*len(cols))
	for i, row := range rows {
		if len(row) != len(cols) {
			return "", nil, errShape("a row's values do not match the columns")
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
		args = append(args, row...)
	}
	if returning != "" {
		b.WriteString(" RETURNING " + database.QuoteIdent(returning))
	}
	return b.String(), args, nil
}

// UpdateByKey sets cols to vals in the one row whose key columns hold
// keyVals. The table's columns in keep that the statement does not set
// are set to themselves, which keeps an ON UPDATE CURRENT_TIMESTAMP
// column as it is (see repair.Facts.AutoUpdate).
func UpdateByKey(table string, cols []string, vals []any, key []string, keyVals []any, keep []string) (string, []any, error) {
	if len(cols) == 0 || len(key) == 0 {
		return "", nil, errNoColumns
	}
	if len(vals) != len(cols) || len(keyVals) != len(key) {
		return "", nil, errShape("values do not match the columns")
	}
	q := "UPDATE " + database.QuoteIdent(table) + " SET " + assignments(cols) + kept(keep, cols) + " WHERE " + keyMatch(key)
	return q, append(slices.Clip(vals), keyVals...), nil
}

// UpdateCase updates many rows of a table with a one-column key at once:
// each column is set to CASE key WHEN ? THEN ? ... END, for the rows whose
// key is one of ids. vals[i] holds row ids[i]'s values of cols. The
// arguments are, per column, the pairs (id, value), then the ids. keep is
// as for UpdateByKey.
func UpdateCase(table, key string, cols []string, ids []any, vals [][]any, keep []string) (string, []any, error) {
	if len(cols) == 0 || key == "" || len(ids) == 0 {
		return "", nil, errNoColumns
	}
	if len(vals) != len(ids) {
		return "", nil, errShape("values do not match the rows")
	}
	var b strings.Builder
	k := database.QuoteIdent(key)
	whens := strings.Repeat(" WHEN ? THEN ?", len(ids))
	args := make([]any, 0, len(ids)*(2*len(cols)+1))
	b.WriteString("UPDATE " + database.QuoteIdent(table) + " SET ")
	for c, col := range cols {
		if c > 0 {
			b.WriteString(", ")
		}
		b.WriteString(database.QuoteIdent(col) + " = CASE " + k + whens + " END")
		for i, id := range ids {
			if len(vals[i]) != len(cols) {
				return "", nil, errShape("a row's values do not match the columns")
			}
			args = append(args, id, vals[i][c])
		}
	}
	b.WriteString(kept(keep, cols) + " WHERE " + k + " IN (" + database.Placeholders(len(ids)) + ")")
	return b.String(), append(args, ids...), nil
}

// SetNullIn sets cols to NULL in the rows whose column in holds one of
// vals; keep is as for UpdateByKey.
func SetNullIn(table string, cols []string, in string, vals []any, keep []string) (string, []any, error) {
	if len(cols) == 0 || len(vals) == 0 {
		return "", nil, errNoColumns
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = database.QuoteIdent(c) + " = NULL"
	}
	q := "UPDATE " + database.QuoteIdent(table) + " SET " + strings.Join(parts, ", ") + kept(keep, cols) +
		" WHERE " + database.QuoteIdent(in) + " IN (" + database.Placeholders(len(vals)) + ")"
	return q, vals, nil
}

// SelectIn selects cols of the rows whose column in holds one of vals.
func SelectIn(table string, cols []string, in string, vals []any) (string, []any, error) {
	if len(cols) == 0 || len(vals) == 0 {
		return "", nil, errNoColumns
	}
	return "SELECT " + database.QuoteIdents(cols) + " FROM " + database.QuoteIdent(table) +
		" WHERE " + database.QuoteIdent(in) + " IN (" + database.Placeholders(len(vals)) + ")", vals, nil
}

// SelectPolyIn is SelectIn of a polymorphic column in, restricted to the
// rows whose discriminator disc names target.
func SelectPolyIn(table string, cols []string, in string, vals []any, disc, target string) (string, []any, error) {
	if len(cols) == 0 || len(vals) == 0 || disc == "" {
		return "", nil, errNoColumns
	}
	q := "SELECT " + database.QuoteIdents(cols) + " FROM " + database.QuoteIdent(table) +
		" WHERE " + database.QuoteIdent(in) + " IN (" + database.Placeholders(len(vals)) + ") AND " + database.QuoteIdent(disc) + " = ?"
	return q, append(slices.Clip(vals), target), nil
}

// DiscriminatorMatches selects, for every distinct value of table's
// column disc, whether it equals each of names (one 0/1 column per name,
// in order). The server compares, under the column's own collation, so
// the answer is exactly the rows "disc = name" would find.
func DiscriminatorMatches(table, disc string, names []string) (string, []any, error) {
	if disc == "" || len(names) == 0 {
		return "", nil, errNoColumns
	}
	tests := make([]string, len(names))
	args := make([]any, len(names))
	for i, name := range names {
		tests[i] = "COALESCE(" + database.QuoteIdent(disc) + " = ?, 0)"
		args[i] = name
	}
	return "SELECT DISTINCT " + strings.Join(tests, ", ") + " FROM " + database.QuoteIdent(table), args, nil
}

// SelectKeys selects the key columns of the rows with any of keys.
func SelectKeys(table string, key []string, keys [][]any) (string, []any, error) {
	match, args, err := anyKeyMatch(key, keys)
	if err != nil {
		return "", nil, err
	}
	return "SELECT " + database.QuoteIdents(key) + " FROM " + database.QuoteIdent(table) + " WHERE " + match, args, nil
}

// DeleteIn deletes the rows whose column in holds one of vals.
func DeleteIn(table, in string, vals []any) (string, []any, error) {
	if in == "" || len(vals) == 0 {
		return "", nil, errNoColumns
	}
	return "DELETE FROM " + database.QuoteIdent(table) + " WHERE " + database.QuoteIdent(in) + " IN (" + database.Placeholders(len(vals)) + ")", vals, nil
}

// DeleteKeys deletes the rows with any of keys.
func DeleteKeys(table string, key []string, keys [][]any) (string, []any, error) {
	match, args, err := anyKeyMatch(key, keys)
	if err != nil {
		return "", nil, err
	}
	return "DELETE FROM " + database.QuoteIdent(table) + " WHERE " + match, args, nil
}

// CountJoined counts the rows of table whose column via points at a row
// that the mapping table maps for entity: the rows of one prefix.
func CountJoined(table, via, mappingTable, entity string) (string, []any, error) {
	if via == "" {
		return "", nil, errNoColumns
	}
	return "SELECT COUNT(*) FROM " + database.QuoteIdent(table) + " t JOIN " + database.QuoteIdent(mappingTable) +
		" m ON m.entity_table = ? AND m.master_entity_id = t." + database.QuoteIdent(via), []any{entity}, nil
}

// SelectJoined selects cols of the rows CountJoined counts.
func SelectJoined(table string, cols []string, via, mappingTable, entity string) (string, []any, error) {
	if len(cols) == 0 || via == "" {
		return "", nil, errNoColumns
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = "t." + database.QuoteIdent(c)
	}
	return "SELECT " + strings.Join(quoted, ", ") + " FROM " + database.QuoteIdent(table) + " t JOIN " + database.QuoteIdent(mappingTable) +
		" m ON m.entity_table = ? AND m.master_entity_id = t." + database.QuoteIdent(via), []any{entity}, nil
}

// assignments is "`a` = ?, `b` = ?".
func assignments(cols []string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = database.QuoteIdent(c) + " = ?"
	}
	return strings.Join(parts, ", ")
}

// kept is ", `c` = `c`" for each column of keep that setting does not set.
func kept(keep, setting []string) string {
	var b strings.Builder
	for _, c := range keep {
		if !slices.Contains(setting, c) {
			q := database.QuoteIdent(c)
			b.WriteString(", " + q + " = " + q)
		}
	}
	return b.String()
}

// keyMatch is "`a` = ? AND `b` = ?".
func keyMatch(key []string) string {
	parts := make([]string, len(key))
	for i, c := range key {
		parts[i] = database.QuoteIdent(c) + " = ?"
	}
	return strings.Join(parts, " AND ")
}

// anyKeyMatch matches any of keys: "(`a` = ? AND `b` = ?) OR ...", a form
// the range optimizer turns into index look-ups.
func anyKeyMatch(key []string, keys [][]any) (string, []any, error) {
	if len(key) == 0 || len(keys) == 0 {
		return "", nil, errNoColumns
	}
	one := "(" + keyMatch(key) + ")"
	parts := make([]string, len(keys))
	args := make([]any, 0, len(keys)*len(key))
	for i, k := range keys {
		if len(k) != len(key) {
			return "", nil, errShape("a key's values do not match its columns")
		}
		parts[i] = one
		args = append(args, k...)
	}
	return strings.Join(parts, " OR "), args, nil
}

// SelectHolder selects the key column of the row that holds vals in the
// unique key cols, and locks it (or, when there is none, the gap where it
// would go) until the transaction ends: two imports matching the same
// value take turns.
func SelectHolder(table, key string, cols []string, vals []any) (string, []any, error) {
	if key == "" || len(cols) == 0 {
		return "", nil, errNoColumns
	}
	if len(vals) != len(cols) {
		return "", nil, errShape("values do not match the columns")
	}
	return "SELECT " + database.QuoteIdent(key) + " FROM " + database.QuoteIdent(table) + " WHERE " + keyMatch(cols) + " LIMIT 1 FOR UPDATE", vals, nil
}

// LockIn locks the rows whose column in holds one of vals until the
// transaction ends, and selects that column.
func LockIn(table, in string, vals []any) (string, []any, error) {
	q, args, err := SelectIn(table, []string{in}, in, vals)
	if err != nil {
		return "", nil, err
	}
	return q + " FOR UPDATE", args, nil
}
