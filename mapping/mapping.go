// Package mapping owns tributary's master-side tables (DESIGN.md section 5):
// one mapping table per child prefix, mapping_master_<PREFIX>, linking each
// child row (entity_table, child_entity_id) to the master row that holds it
// (master_entity_id), and tributary_ledger, one row per applied sync file.
//
// Every look-up is batched and bounded by the number of IDs asked for, so
// an import's cost grows with its file, never with the size of the master.
package mapping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"tributary/childdb"
	"tributary/internal/database"
)

// LedgerTable is the name of the table that records applied files.
const LedgerTable = "tributary_ledger"

// tablePrefix starts every mapping table's name.
const tablePrefix = "mapping_master_"

// Querier is what the package needs of a connection: *sql.Tx, *sql.Conn
// and *sql.DB all have it. Inside an import it is the import's transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// ErrBadPrefix is returned for a prefix that may not become part of a table name.
var ErrBadPrefix = errors.New("invalid prefix")

// TableName is the mapping table of a prefix: mapping_master_<PREFIX>. It
// fails for a prefix that does not match the contract's pattern, so no
// file content can choose an arbitrary table name.
func TableName(prefix string) (string, error) {
	if !childdb.PrefixPattern.MatchString(prefix) {
		return "", fmt.Errorf("%w %q: lower-case letter, then up to 31 of a-z, 0-9, _", ErrBadPrefix, prefix)
	}
	return tablePrefix + prefix, nil
}

// createTable is the start of a CREATE statement; a temporary table (a
// dry run's) is made by the same statement with TEMPORARY.
func createTable(table string, temporary bool) string {
	if temporary {
		return "CREATE TEMPORARY TABLE IF NOT EXISTS " + database.QuoteIdent(table)
	}
	return "CREATE TABLE IF NOT EXISTS " + database.QuoteIdent(table)
}

// mappingDDL creates a mapping table. IDs are signed BIGINT so that every
// ID a sync file can carry (a JSON integer that fits int64) fits, and
// utf8mb4_bin makes entity_table compare exactly as table names do.
func mappingDDL(table string, temporary bool) string {
	return createTable(table, temporary) + ` (
  entity_table VARCHAR(255) NOT NULL,
  child_entity_id BIGINT NOT NULL,
  master_entity_id BIGINT NOT NULL,
  PRIMARY KEY (entity_table, child_entity_id),
  UNIQUE KEY UI_master (entity_table, master_entity_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
}

// ledgerDDL creates the ledger. Window ends are DATETIME(6) in UTC so that
// status and admins can read and sort them; the import compares them at
// microsecond precision.
func ledgerDDL(temporary bool) string {
	return createTable(LedgerTable, temporary) + ` (
  prefix VARCHAR(32) NOT NULL,
  stream VARCHAR(64) NOT NULL,
  sequence BIGINT UNSIGNED NOT NULL,
  mode VARCHAR(16) NOT NULL,
  since DATETIME(6) NULL,
  until DATETIME(6) NOT NULL,
  sha256 CHAR(64) NOT NULL,
  records BIGINT UNSIGNED NOT NULL,
  inserted BIGINT UNSIGNED NOT NULL DEFAULT 0,
  updated BIGINT UNSIGNED NOT NULL DEFAULT 0,
  deleted BIGINT UNSIGNED NOT NULL DEFAULT 0,
  file_name VARCHAR(1024) NOT NULL,
  applied_at DATETIME(6) NOT NULL,
  source_host VARCHAR(255) NULL,
  source_database VARCHAR(64) NULL,
  PRIMARY KEY (prefix, stream, sequence),
  KEY I_prefix_until (prefix, until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
}

// Ensure creates the prefix's mapping table and the ledger when they are
// missing and reports which it created. It looks first and issues CREATE
// only for a missing table, so that once they exist an account with only
// SELECT, INSERT, UPDATE and DELETE works. CREATE TABLE commits any open
// transaction, so call it before the import's transaction starts.
// The notices table (see NoticesTable) is made with them.
func Ensure(ctx context.Context, q Querier, prefix string) ([]string, error) {
	created, err := ensure(ctx, q, prefix, false)
	if err != nil {
		return created, err
	}
	made, err := EnsureNotices(ctx, q)
	if made {
		created = append(created, NoticesTable)
	}
	return created, err
}

// ensure creates what is missing, as TEMPORARY tables when temporary is set.
func ensure(ctx context.Context, q Querier, prefix string, temporary bool) ([]string, error) {
	table, err := TableName(prefix)
	if err != nil {
		return nil, err
	}
	var created []string
	for _, want := range []struct{ name, ddl string }{
		{LedgerTable, ledgerDDL(temporary)},
		{table, mappingDDL(table, temporary)},
		{HoldersTable, holdersDDL(temporary)},
	} {
		exists, err := tableExists(ctx, q, want.name)
		if err != nil {
			return created, err
		}
		if exists && want.name == LedgerTable {
			err = upgradeLedger(ctx, q)
		}
		if err != nil {
			return created, err
		}
		if exists {
			continue
		}
		if _, err := q.ExecContext(ctx, want.ddl); err != nil {
			if n := database.ErrorNumber(err); want.name == HoldersTable && (n == 1142 || n == 1044) {
				// A master set up by an older tributary, whose import account
				// lost CREATE after its first run: the table is needed only
				// by a map with a match policy, which then says it is missing.
				continue
			}
			return created, fmt.Errorf("create table %s: %w", want.name, err)
		}
		created = append(created, want.name)
	}
	return created, nil
}

// ledgerAdded lists the ledger's columns that a ledger created by an
// older tributary lacks, with their definitions.
var ledgerAdded = []struct{ column, definition string }{
	{"source_host", "VARCHAR(255) NULL"},
	{"source_database", "VARCHAR(64) NULL"},
}

// upgradeLedger adds the columns an older ledger lacks. Old rows keep NULL
// there (nothing was recorded). It needs the ALTER privilege once; without
// it the error gives the statement for an admin to run.
func upgradeLedger(ctx context.Context, q Querier) error {
	rows, err := q.QueryContext(ctx, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", LedgerTable)
	if err != nil {
		return fmt.Errorf("read the columns of %s: %w", LedgerTable, err)
	}
	have := map[string]bool{}
	err = database.ScanRows(rows, func(rows *sql.Rows) error {
		var name string
		err := rows.Scan(&name)
		have[strings.ToLower(name)] = true
		return err
	})
	if err != nil {
		return fmt.Errorf("read the columns of %s: %w", LedgerTable, err)
	}
	var adds []string
	for _, c := range ledgerAdded {
		if !have[c.column] {
			adds = append(adds, "ADD COLUMN "+database.QuoteIdent(c.column)+" "+c.definition)
		}
	}
	if len(adds) == 0 {
		return nil
	}
	alter := "ALTER TABLE " + database.QuoteIdent(LedgerTable) + " " + strings.Join(adds, ", ")
	if _, err := q.ExecContext(ctx, alter); err != nil {
		return fmt.Errorf("this tributary records more in %s than the one that created it; adding the columns failed (%w): run once as an account allowed to alter it, or run this statement: %s",
			LedgerTable, err, alter)
	}
	return nil
}

// tableExists asks information_schema, passing the name as a parameter.
func tableExists(ctx context.Context, q Querier, name string) (bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", name)
	if err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	found := false
	err = database.ScanRows(rows, func(*sql.Rows) error {
		found = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return found, nil
}

// Prefixes lists the prefixes that have a mapping table in the connected
// database, sorted.
func Prefixes(ctx context.Context, q Querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE ? ORDER BY TABLE_NAME", tablePrefix+"%")
	if err != nil {
		return nil, fmt.Errorf("list mapping tables: %w", err)
	}
	var prefixes []string
	err = database.ScanRows(rows, func(rows *sql.Rows) error {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if p := strings.TrimPrefix(name, tablePrefix); childdb.PrefixPattern.MatchString(p) {
			prefixes = append(prefixes, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list mapping tables: %w", err)
	}
	return prefixes, nil
}
