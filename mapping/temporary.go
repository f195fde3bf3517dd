package mapping

import (
	"context"
	"fmt"
	"strings"
)

// EnsureTemporary is Ensure for a dry run: the mapping table and the ledger
// that are missing are created as TEMPORARY tables, which only q's session
// sees, which vanish with it, and whose creation commits nothing. q must be
// one pinned connection (a *sql.Conn), not a pool.
func EnsureTemporary(ctx context.Context, q Querier, prefix string) ([]string, error) {
	table, err := TableName(prefix)
	if err != nil {
		return nil, err
	}
	var created []string
	for _, want := range []struct{ name, ddl string }{
		{LedgerTable, ledgerDDL()},
		{table, mappingDDL(table)},
	} {
		exists, err := tableExists(ctx, q, want.name)
		if err != nil {
			return created, err
		}
		if exists {
			continue
		}
		ddl := strings.Replace(want.ddl, "CREATE TABLE", "CREATE TEMPORARY TABLE", 1)
		if _, err := q.ExecContext(ctx, ddl); err != nil {
			return created, fmt.Errorf("create temporary table %s: %w", want.name, err)
		}
		created = append(created, want.name)
	}
	return created, nil
}
