package importer

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"tributary/mapping"
)

// notices decides which warnings that would repeat on every cron run are
// told: a warning is told when its content differs from what the master's
// notices table remembers for its topic, and is then remembered. Without
// the table (and without the right to make it), or in a dry run, which
// changes nothing, every warning is told.
type notices struct {
	db     *sql.DB
	dryRun bool
}

// tell reports whether msg, the warning about topic, must be told now.
func (n notices) tell(ctx context.Context, topic, msg string) bool {
	if n.dryRun || n.db == nil {
		return true
	}
	sum := sha256.Sum256([]byte(msg))
	digest := hex.EncodeToString(sum[:])
	told, err := mapping.NoticeDigest(ctx, n.db, topic)
	if errors.Is(err, mapping.ErrNoNotices) {
		if _, err := mapping.EnsureNotices(ctx, n.db); err != nil {
			return true // no CREATE: told every time, as before
		}
	} else if err != nil {
		return true
	}
	if told == digest {
		return false
	}
	_ = mapping.RecordNotice(ctx, n.db, topic, digest) // not remembered: told again next time
	return true
}

// gone forgets topic, whose condition is over: should it come back, it is
// told again.
func (n notices) gone(ctx context.Context, topic string) {
	if !n.dryRun && n.db != nil {
		_ = mapping.ForgetNotice(ctx, n.db, topic)
	}
}

// staleTopic names a stale file for the notices table: the same file sent
// again (a transport that does not remove what it sent) is told once.
func staleTopic(r *Result) string {
	return fmt.Sprintf("stale file %s/%s/%d", r.Prefix, r.Stream, r.Sequence)
}

// quietStale marks the stale files told about before as Quiet.
func quietStale(ctx context.Context, n notices, results []Result) {
	for i := range results {
		r := &results[i]
		if r.Err != nil && errors.Is(r.Err, ErrStale) && r.Stream != "" {
			r.Quiet = !n.tell(ctx, staleTopic(r), r.Mode)
		}
	}
}
