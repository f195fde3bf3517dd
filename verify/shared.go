package verify

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"tributary/internal/database"
)

// Shared compares one shared table (configuration that every database
// holds alike) between a child and the master, by primary key and by the
// columns both sides have. References to a shared table are copied
// verbatim, so a row the master lacks, or holds with other content, makes
// the child's references point at nothing or at the wrong row. It returns
// the rows that differ, in the child's key order: Missing (on the child
// only), Changed (with the columns), Extra (on the master only: harmless
// to this child). Key names a row by its key columns; values are never
// reported. The whole table is read: shared tables are configuration,
// small by nature.
func Shared(ctx context.Context, child, master *sql.DB, table string) ([]Difference, error) {
	childCols, key, err := sharedColumns(ctx, child, table)
	if err != nil {
		return nil, fmt.Errorf("shared table %s on the child: %w", table, err)
	}
	masterCols, _, err := sharedColumns(ctx, master, table)
	if err != nil {
		return nil, fmt.Errorf("shared table %s on the master: %w", table, err)
	}
	var cols []string
	for _, c := range childCols {
		if slices.Contains(masterCols, c) && !slices.Contains(key, c) {
			cols = append(cols, c)
		}
	}
	noKey := len(key) == 0
	if noKey {
		// No primary key: a row is its content, which is never reported.
		key, cols = cols, nil
	}
	name := func(k string) string {
		if noKey {
			return "a row (no primary key)"
		}
		return k
	}
	query := "SELECT " + database.QuoteIdents(append(slices.Clone(key), cols...)) + " FROM " + database.QuoteIdent(table) +
		" ORDER BY " + database.QuoteIdents(key)
	masterRows, err := readRows(ctx, master, query)
	if err != nil {
		return nil, fmt.Errorf("shared table %s on the master: %w", table, err)
	}
	onMaster := make(map[string][]value, len(masterRows))
	var masterOrder []string
	for _, row := range masterRows {
		k := keyOf(key, row)
		onMaster[k] = row[len(key):]
		masterOrder = append(masterOrder, k)
	}
	childRows, err := readRows(ctx, child, query)
	if err != nil {
		return nil, fmt.Errorf("shared table %s on the child: %w", table, err)
	}
	var diffs []Difference
	for _, row := range childRows {
		k := keyOf(key, row)
		theirs, ok := onMaster[k]
		if !ok {
			diffs = append(diffs, Difference{Table: table, Key: name(k), Kind: Missing})
			continue
		}
		delete(onMaster, k)
		var changed []string
		for i, c := range cols {
			if !same(row[len(key)+i], theirs[i]) {
				changed = append(changed, c)
			}
		}
		if len(changed) > 0 {
			diffs = append(diffs, Difference{Table: table, Key: k, Kind: Changed, Columns: changed})
		}
	}
	for _, k := range masterOrder {
		if _, left := onMaster[k]; left {
			diffs = append(diffs, Difference{Table: table, Key: name(k), Kind: Extra})
		}
	}
	return diffs, nil
}

// sharedColumns lists a table's columns in table order and its primary key.
func sharedColumns(ctx context.Context, db *sql.DB, table string) (cols, key []string, err error) {
	rows, err := readRows(ctx, db, `SELECT COLUMN_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, table)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		cols = append(cols, *r[0])
	}
	if len(cols) == 0 {
		return nil, nil, fmt.Errorf("table not found")
	}
	rows, err = readRows(ctx, db, `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`, table)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		key = append(key, *r[0])
	}
	return cols, key, nil
}

// keyOf names a row by its key columns: "id=7", "a=1,b=2".
func keyOf(key []string, row []value) string {
	var b []byte
	for i, k := range key {
		if i > 0 {
			b = append(b, ',')
		}
		v := "NULL"
		if row[i] != nil {
			v = *row[i]
		}
		b = append(b, k+"="+v...)
	}
	return string(b)
}
