package schema

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// catalog is what information_schema says about one database.
type catalog struct {
	database string
	columns  map[string][]Column              // table -> columns in table order
	primary  map[string][]string              // table -> primary key columns
	foreign  map[string]map[string]foreignKey // table -> column -> single-column FK
	multiFK  map[string][]string              // table -> columns of multi-column FKs
	unique   map[string][]UniqueKey           // table -> unique keys but the primary
	// leads: table -> lower-case names of the columns an index starts with
	leads map[string]map[string]bool
	// rows: table -> the server's estimate of its row count
	rows map[string]int64
}

type foreignKey struct {
	column, refSchema, refTable, refColumn, onDelete string
}

// loadCatalog reads columns, primary keys and foreign keys of the connected
// database. Names are bound parameters, never part of the SQL text.
func loadCatalog(ctx context.Context, db *sqlx.DB) (*catalog, error) {
	c := &catalog{
		columns: map[string][]Column{},
		primary: map[string][]string{},
		foreign: map[string]map[string]foreignKey{},
		multiFK: map[string][]string{},
		unique:  map[string][]UniqueKey{},
		leads:   map[string]map[string]bool{},
		rows:    map[string]int64{},
	}
	if err := db.GetContext(ctx, &c.database, "SELECT DATABASE()"); err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	steps := []func(context.Context, *sqlx.DB) error{c.loadColumns, c.loadPrimaryKeys, c.loadForeignKeys, c.loadUniqueKeys, c.loadIndexLeads, c.loadRowEstimates}
	for _, step := range steps {
		if err := step(ctx, db); err != nil {
			return nil, fmt.Errorf("read schema of %s: %w", c.database, err)
		}
	}
	return c, nil
}

func (c *catalog) loadColumns(ctx context.Context, db *sqlx.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, EXTRA,
			CHARACTER_SET_NAME, COLUMN_DEFAULT IS NOT NULL, COALESCE(CHARACTER_MAXIMUM_LENGTH, 0),
			COALESCE(CHARACTER_OCTET_LENGTH, 0), COALESCE(NUMERIC_PRECISION, DATETIME_PRECISION, 0), COALESCE(NUMERIC_SCALE, 0)
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`, c.database)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var table, nullable, extra string
		var charset sql.NullString
		var col Column
		if err := rows.Scan(&table, &col.Name, &col.DataType, &col.ColumnType, &nullable, &extra, &charset,
			&col.HasDefault, &col.MaxChars, &col.MaxBytes, &col.Precision, &col.Scale); err != nil {
			return err
		}
		col.DataType = strings.ToLower(col.DataType)
		col.Nullable = nullable == "YES"
		col.AutoIncrement = strings.Contains(strings.ToLower(extra), "auto_increment")
		col.HasDefault = col.HasDefault || col.Nullable || col.AutoIncrement
		col.Binary = isBinaryType(col.DataType)
		col.Charset = charset.String
		if isGenerated(extra) {
			// The database computes these: they are neither sent nor written.
			continue
		}
		c.columns[table] = append(c.columns[table], col)
	}
	return rows.Err()
}

func (c *catalog) loadPrimaryKeys(ctx context.Context, db *sqlx.DB) error {
	return c.tableColumns(ctx, db, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY TABLE_NAME, ORDINAL_POSITION`,
		func(table, column string) { c.primary[table] = append(c.primary[table], column) })
}

// tableColumns runs query, which selects (table, column) pairs of this
// database (its one parameter), and hands each pair to fn.
func (c *catalog) tableColumns(ctx context.Context, db *sqlx.DB, query string, fn func(table, column string)) error {
	rows, err := db.QueryContext(ctx, query, c.database)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			return err
		}
		fn(table, column)
	}
	return rows.Err()
}

// loadForeignKeys joins REFERENTIAL_CONSTRAINTS with a LEFT JOIN: MariaDB
// shows a SELECT-only account no rows there, and an inner join would then
// silently lose every foreign key (and with them the export's closure).
func (c *catalog) loadForeignKeys(ctx context.Context, db *sqlx.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME,
			k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, COALESCE(r.DELETE_RULE, '')
		FROM information_schema.KEY_COLUMN_USAGE k
		LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r
		  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
		WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
		ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`, c.database)
	if err != nil {
		return err
	}
	defer rows.Close()
	byConstraint := map[[2]string][]foreignKey{}
	var order [][2]string
	for rows.Next() {
		var table, constraint string
		var fk foreignKey
		if err := rows.Scan(&table, &constraint, &fk.column, &fk.refSchema, &fk.refTable, &fk.refColumn, &fk.onDelete); err != nil {
			return err
		}
		key := [2]string{table, constraint}
		if _, seen := byConstraint[key]; !seen {
			order = append(order, key)
		}
		byConstraint[key] = append(byConstraint[key], fk)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, key := range order {
		c.addForeignKey(key[0], byConstraint[key])
	}
	return nil
}

func (c *catalog) addForeignKey(table string, parts []foreignKey) {
	if len(parts) > 1 {
		for _, p := range parts {
			c.multiFK[table] = append(c.multiFK[table], p.column)
		}
		return
	}
	if c.foreign[table] == nil {
		c.foreign[table] = map[string]foreignKey{}
	}
	c.foreign[table][parts[0].column] = parts[0]
}

// loadUniqueKeys reads every unique index but the primary key, its columns
// in index order.
func (c *catalog) loadUniqueKeys(ctx context.Context, db *sqlx.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY'
		ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`, c.database)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var table, index, column string
		if err := rows.Scan(&table, &index, &column); err != nil {
			return err
		}
		keys := c.unique[table]
		if n := len(keys); n > 0 && keys[n-1].Name == index {
			keys[n-1].Columns = append(keys[n-1].Columns, column)
			continue
		}
		c.unique[table] = append(keys, UniqueKey{Name: index, Columns: []string{column}})
	}
	return rows.Err()
}

// loadIndexLeads reads which columns start an index: a track column no
// index starts with makes every incremental export read its table whole
// (Table.TrackIndexed).
func (c *catalog) loadIndexLeads(ctx context.Context, db *sqlx.DB) error {
	return c.tableColumns(ctx, db, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND SEQ_IN_INDEX = 1`,
		func(table, column string) {
			if c.leads[table] == nil {
				c.leads[table] = map[string]bool{}
			}
			c.leads[table][strings.ToLower(column)] = true
		})
}

// loadRowEstimates reads the server's estimate of each table's rows (for
// check's advice on track indexes).
func (c *catalog) loadRowEstimates(ctx context.Context, db *sqlx.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`, c.database)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var table string
		var n int64
		if err := rows.Scan(&table, &n); err != nil {
			return err
		}
		c.rows[table] = n
	}
	return rows.Err()
}

func isBinaryType(dataType string) bool {
	switch dataType {
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit", "geometry", "point",
		"linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		return true
	}
	return false
}

func isIntegerType(dataType string) bool {
	switch dataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return true
	}
	return false
}

func isGenerated(extra string) bool {
	extra = strings.ToUpper(extra)
	return strings.Contains(extra, "GENERATED") || strings.Contains(extra, "PERSISTENT")
}
