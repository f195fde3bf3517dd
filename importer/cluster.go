package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"tributary/importer/masterdb"
	"tributary/internal/database"
	"tributary/internal/exitcode"
	"tributary/mapping"
)

// On a MariaDB Galera Cluster master two things change (docs/cluster.md):
// GET_LOCK holds only on the node that took it, so a prefix
// is also held by a lease row every node sees (mapping.LeaseTable); and a
// node applies what the others committed a moment later, so the session
// reads causally (wsrep_sync_wait) while it takes the lease, after which
// it sees everything the prefix's earlier imports committed, wherever.

const (
	// leaseTerm is how long a lease lasts unless renewed: after a crash,
	// how long the prefix waits before another node's import may take it.
	leaseTerm = 60 * time.Second
	// leaseRenew is how often a running import renews its lease.
	leaseRenew = leaseTerm / 4
)

// errNoVariable is the server's "unknown system variable".
const errNoVariable = 1193

// isCluster reports whether the session's server is a Galera node.
func (s *session) isCluster(ctx context.Context) (bool, error) {
	var on bool
	err := s.conn.QueryRowContext(ctx, "SELECT @@wsrep_on").Scan(&on)
	if database.ErrorNumber(err) == errNoVariable {
		return false, nil // MySQL, TiDB: no wsrep at all
	}
	if err != nil {
		return false, fmt.Errorf("read @@wsrep_on: %w", masterdb.SQLError(err))
	}
	return on, nil
}

// lease is a session's hold of its prefix across a cluster's nodes.
type lease struct {
	holder string
	stop   chan struct{}
	done   sync.WaitGroup
}

// takeLease takes the prefix's lease (busy: exit 75) and keeps renewing it
// from the pool until the session ends.
func (s *session) takeLease(ctx context.Context) error {
	var was int64
	if err := s.conn.QueryRowContext(ctx, "SELECT @@SESSION.wsrep_sync_wait").Scan(&was); err != nil {
		return fmt.Errorf("read @@wsrep_sync_wait: %w", masterdb.SQLError(err))
	}
	if _, err := s.conn.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 1"); err != nil {
		return fmt.Errorf("read causally: %w", masterdb.SQLError(err))
	}
	if err := mapping.EnsureLeases(ctx, s.conn); err != nil {
		return fmt.Errorf("%w (a cluster master needs it once: run one import with an account that may CREATE, or create it as an admin)", masterdb.SQLError(err))
	}
	holder, err := leaseHolder(s.id)
	if err != nil {
		return err
	}
	taken, cur, err := mapping.TakeLease(ctx, s.conn, s.prefix, holder, leaseTerm)
	if err != nil {
		return masterdb.SQLError(err)
	}
	if !taken {
		return exitcode.Wrap(exitcode.Locked, fmt.Errorf("%w: prefix %s is held on the cluster by %s until %s; try again later",
			ErrLocked, s.prefix, cur.Holder, cur.Expires.Format(time.RFC3339)))
	}
	s.lease = &lease{holder: holder, stop: make(chan struct{})}
	s.lease.done.Add(1)
	go s.renewLease()
	// Reads from here on see what every node committed before the lease;
	// nothing of the prefix changes elsewhere while it is held.
	if _, err := s.conn.ExecContext(ctx, "SET SESSION wsrep_sync_wait = ?", was); err != nil {
		return fmt.Errorf("set up session: %w", masterdb.SQLError(err))
	}
	return nil
}

// leaseHolder names a lease's holder for the admin who finds it held:
// the machine and process of the import, and its connection.
func leaseHolder(connID int64) (string, error) {
	host, _ := os.Hostname()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make lease holder: %w", err)
	}
	return fmt.Sprintf("import pid %d on %s (connection %d, %s)", os.Getpid(), host, connID, hex.EncodeToString(b[:])), nil
}

// renewLease keeps the lease ahead of its term until stopped. A renewal
// that fails is tried again at the next tick; a lease another import took
// is found by the file's own check before COMMIT (mapping.HoldLease).
func (s *session) renewLease() {
	defer s.lease.done.Done()
	tick := time.NewTicker(leaseRenew)
	defer tick.Stop()
	for {
		select {
		case <-s.lease.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), leaseRenew)
		held, err := mapping.RenewLease(ctx, s.db, s.prefix, s.lease.holder, leaseTerm)
		cancel()
		if err == nil && !held {
			return
		}
	}
}

// holdLease ties a file's transaction to the lease (see mapping.HoldLease);
// a session without a lease (not a cluster) has nothing to do.
func (s *session) holdLease(ctx context.Context, q mapping.Querier) error {
	if s.lease == nil {
		return nil
	}
	err := mapping.HoldLease(ctx, q, s.prefix, s.lease.holder, leaseTerm)
	if err != nil && !retryable(err) {
		return exitcode.Wrap(exitcode.Locked, fmt.Errorf("%w; nothing of the file was applied, try again later", err))
	}
	return err
}

// releaseLease stops the renewals and gives the lease up.
func (s *session) releaseLease(ctx context.Context) {
	if s.lease == nil {
		return
	}
	close(s.lease.stop)
	s.lease.done.Wait()
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = mapping.ReleaseLease(cleanup, s.db, s.prefix, s.lease.holder)
	s.lease = nil
}
