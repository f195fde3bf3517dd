package mapping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tributary/internal/database"
)

// LeaseTable says, on a cluster master, which import holds each prefix
// until when. On MariaDB Galera Cluster GET_LOCK is local to a node: two
// imports of one prefix on two nodes both get it. A lease row is a write
// that the cluster certifies: of two nodes taking it at once, one commits
// and the other's COMMIT fails, and every node reads the winner.
const LeaseTable = "tributary_leases"

func leasesDDL() string {
	return createTable(LeaseTable, false) + ` (
  prefix VARCHAR(32) NOT NULL,
  holder VARCHAR(255) NOT NULL,
  taken_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  PRIMARY KEY (prefix)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
}

// Lease is the lease row of a prefix.
type Lease struct {
	Holder  string
	Expires time.Time // UTC
	Alive   bool      // not expired by the server's clock
}

// ErrLeaseLost: the import's lease on its prefix was taken over (it
// stalled past the lease's term and another node's import took it).
var ErrLeaseLost = errors.New("this import's lease on the prefix was taken by another import")

// EnsureLeases creates the lease table when it is missing.
func EnsureLeases(ctx context.Context, q Querier) error {
	exists, err := tableExists(ctx, q, LeaseTable)
	if err != nil || exists {
		return err
	}
	if _, err := q.ExecContext(ctx, leasesDDL()); err != nil {
		return fmt.Errorf("create table %s: %w", LeaseTable, err)
	}
	return nil
}

// TakeLease takes prefix's lease for holder for term, in a transaction of
// its own on conn, unless another holder's lease is alive: then it returns
// false and that lease. A COMMIT the cluster refuses (another node took
// the lease at the same moment) is a lease not taken, too. conn should
// read causally (wsrep_sync_wait), so that it sees every node's leases.
func TakeLease(ctx context.Context, conn *sql.Conn, prefix, holder string, term time.Duration) (bool, Lease, error) {
	var cur Lease
	err := database.WithTx(ctx, conn, nil, func(tx *sql.Tx) error {
		var found bool
		var err error
		if cur, found, err = readLease(ctx, tx, prefix, " FOR UPDATE"); err != nil {
			return err
		}
		if found && cur.Alive && cur.Holder != holder {
			return errLeaseBusy
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO "+database.QuoteIdent(LeaseTable)+" (prefix, holder, taken_at, expires_at)"+
			" VALUES (?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND)"+
			" ON DUPLICATE KEY UPDATE holder = VALUES(holder), taken_at = VALUES(taken_at), expires_at = VALUES(expires_at)",
			prefix, holder, term.Microseconds())
		return err
	})
	switch {
	case err == nil:
		return true, Lease{Holder: holder, Alive: true}, nil
	case errors.Is(err, errLeaseBusy):
		return false, cur, nil
	case database.IsRetryable(err):
		// Another node's lease won the certification: read it.
		if cur, _, err = readLease(ctx, conn, prefix, ""); err != nil {
			return false, cur, fmt.Errorf("read the lease of prefix %s: %w", prefix, err)
		}
		return false, cur, nil
	}
	return false, cur, fmt.Errorf("take the lease of prefix %s: %w", prefix, err)
}

var errLeaseBusy = errors.New("lease busy")

func readLease(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, prefix, lock string) (Lease, bool, error) {
	var l Lease
	var expires string
	found := false
	rows, err := q.QueryContext(ctx, "SELECT holder, expires_at, expires_at > UTC_TIMESTAMP(6) FROM "+database.QuoteIdent(LeaseTable)+" WHERE prefix = ?"+lock, prefix)
	if err != nil {
		return l, false, err
	}
	err = database.ScanRows(rows, func(rows *sql.Rows) error {
		found = true
		return rows.Scan(&l.Holder, &expires, &l.Alive)
	})
	if err == nil && found {
		l.Expires, err = parseLedgerTime(expires)
	}
	return l, found, err
}

// RenewLease moves holder's lease of prefix to term from now, and reports
// whether holder still had it.
func RenewLease(ctx context.Context, q Querier, prefix, holder string, term time.Duration) (bool, error) {
	res, err := q.ExecContext(ctx, "UPDATE "+database.QuoteIdent(LeaseTable)+
		" SET expires_at = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND WHERE prefix = ? AND holder = ?",
		term.Microseconds(), prefix, holder)
	if err != nil {
		return false, fmt.Errorf("renew the lease of prefix %s: %w", prefix, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// HoldLease renews holder's lease inside a file's transaction, just before
// it commits: the cluster then certifies the file together with the lease,
// and a file whose import lost its lease (another node's import took it
// after the term ran out) cannot commit. ErrLeaseLost when the lease is
// another's.
func HoldLease(ctx context.Context, q Querier, prefix, holder string, term time.Duration) error {
	held, err := RenewLease(ctx, q, prefix, holder, term)
	if err == nil && !held {
		err = fmt.Errorf("%w (prefix %s)", ErrLeaseLost, prefix)
	}
	return err
}

// ReleaseLease gives up holder's lease of prefix.
func ReleaseLease(ctx context.Context, q Querier, prefix, holder string) error {
	_, err := q.ExecContext(ctx, "DELETE FROM "+database.QuoteIdent(LeaseTable)+" WHERE prefix = ? AND holder = ?", prefix, holder)
	if err != nil {
		return fmt.Errorf("release the lease of prefix %s: %w", prefix, err)
	}
	return nil
}
