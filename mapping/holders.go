package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"tributary/internal/database"
)

// HoldersTable records which master rows are shared through a match
// policy (DESIGN.md section 3, "Values unique on the master"): one row per
// shared master row, with the prefix that created it, or "" when the row
// was the master's own before any child matched it. Only the creator
// writes a shared row's columns; the row is deleted only when no prefix
// maps to it any more and its creator is a prefix.
const HoldersTable = "tributary_holders"

func holdersDDL(temporary bool) string {
	return createTable(HoldersTable, temporary) + ` (
  entity_table VARCHAR(255) NOT NULL,
  master_entity_id BIGINT NOT NULL,
  creator VARCHAR(32) NOT NULL,
  PRIMARY KEY (entity_table, master_entity_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
}

// Creators returns the creator of each of the given master rows of entity
// that is shared; a row that is not shared is absent. The rows read are
// locked until the transaction ends, so a handover cannot race a delete.
func Creators(ctx context.Context, q Querier, entity string, master []int64) (map[int64]string, error) {
	return creators(ctx, q, entity, master, " FOR UPDATE")
}

// ReadCreators is Creators without locks, for a comparison (verify); a
// master without the holders table shares nothing.
func ReadCreators(ctx context.Context, q Querier, entity string, master []int64) (map[int64]string, error) {
	exists, err := tableExists(ctx, q, HoldersTable)
	if err != nil || !exists {
		return map[int64]string{}, err
	}
	return creators(ctx, q, entity, master, "")
}

func creators(ctx context.Context, q Querier, entity string, master []int64, lock string) (map[int64]string, error) {
	out := map[int64]string{}
	err := chunks(master, func(size int, args []any) error {
		rows, err := q.QueryContext(ctx, "SELECT master_entity_id, creator FROM "+database.QuoteIdent(HoldersTable)+
			" WHERE entity_table = ? AND master_entity_id IN ("+database.Placeholders(size)+")"+lock, append([]any{entity}, args...)...)
		if err != nil {
			return err
		}
		return database.ScanRows(rows, func(rows *sql.Rows) error {
			var id int64
			var creator string
			if err := rows.Scan(&id, &creator); err != nil {
				return err
			}
			out[id] = creator
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the holders of shared %s rows: %w", entity, err)
	}
	return out, nil
}

// Share records that master row id of entity is shared, created by
// creator; a row already recorded keeps its creator.
func Share(ctx context.Context, q Querier, entity string, id int64, creator string) error {
	_, err := q.ExecContext(ctx, "INSERT INTO "+database.QuoteIdent(HoldersTable)+
		" (entity_table, master_entity_id, creator) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE creator = creator", entity, id, creator)
	if err != nil {
		return fmt.Errorf("record shared %s row %d: %w", entity, id, err)
	}
	return nil
}

// HandOver makes creator the creator of shared master row id of entity.
func HandOver(ctx context.Context, q Querier, entity string, id int64, creator string) error {
	_, err := q.ExecContext(ctx, "UPDATE "+database.QuoteIdent(HoldersTable)+" SET creator = ? WHERE entity_table = ? AND master_entity_id = ?", creator, entity, id)
	if err != nil {
		return fmt.Errorf("hand shared %s row %d over: %w", entity, id, err)
	}
	return nil
}

// Unshare forgets that the given master rows of entity are shared.
func Unshare(ctx context.Context, q Querier, entity string, master []int64) error {
	err := chunks(master, func(size int, args []any) error {
		_, err := q.ExecContext(ctx, "DELETE FROM "+database.QuoteIdent(HoldersTable)+
			" WHERE entity_table = ? AND master_entity_id IN ("+database.Placeholders(size)+")", append([]any{entity}, args...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("forget shared %s rows: %w", entity, err)
	}
	return nil
}

// Mappers returns, for each of the given master rows of entity, the
// prefixes other than self whose mapping tables map a child row to it,
// sorted. It reads with shared locks, so it sees what other imports have
// committed, and a mapping it sees cannot go while this transaction runs.
func Mappers(ctx context.Context, q Querier, self, entity string, master []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(master) == 0 {
		return out, nil
	}
	prefixes, err := Prefixes(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, p := range prefixes {
		if p == self {
			continue
		}
		table, err := TableName(p)
		if err != nil {
			return nil, err
		}
		err = chunks(master, func(size int, args []any) error {
			rows, err := q.QueryContext(ctx, "SELECT master_entity_id FROM "+database.QuoteIdent(table)+
				" WHERE entity_table = ? AND master_entity_id IN ("+database.Placeholders(size)+") LOCK IN SHARE MODE", append([]any{entity}, args...)...)
			if err != nil {
				return err
			}
			return database.ScanRows(rows, func(rows *sql.Rows) error {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				if !slices.Contains(out[id], p) {
					out[id] = append(out[id], p)
				}
				return nil
			})
		})
		if err != nil {
			return nil, fmt.Errorf("read prefix %s's mappings of %s: %w", p, entity, err)
		}
	}
	return out, nil
}
