package mapping

import "context"

// EnsureTemporary is Ensure for a dry run: the mapping table and the ledger
// that are missing are created as TEMPORARY tables, which only q's session
// sees, which vanish with it, and whose creation commits nothing. q must be
// one pinned connection (a *sql.Conn), not a pool.
func EnsureTemporary(ctx context.Context, q Querier, prefix string) ([]string, error) {
	return ensure(ctx, q, prefix, true)
}
