package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"tributary/importer/admit"
	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/importer/reconcile"
	"tributary/importer/repair"
	"tributary/importer/write"
	"tributary/internal/database"
	"tributary/mapping"
	"tributary/syncfile"
)

// surveyKeep is how many bytes of parsed rows a survey keeps in memory for
// the first pass (plan.Records.Survey): enough for the incremental files
// of a cron run; a larger file is read a second time instead.
const surveyKeep = 16 << 20

// applyFile checks one file against the master and the ledger and applies
// it in one transaction; any error rolls everything back. The file is read
// once, from its first byte: the header checked here, the records by the
// passes, the trailer (count, checksum, signature) verified before the
// transaction may commit.
func (r *runner) applyFile(ctx context.Context, sess *session, a attempt, res *Result) error {
	rd, err := a.file.Reader(syncfile.ReaderOptions{SignKey: r.opts.SignKey})
	if err != nil {
		return err
	}
	defer rd.Close()
	h := rd.Header()
	if err := sameFile(a.file.Header(), h); err != nil {
		return err
	}
	w, err := admit.Header(a.path, h)
	if err != nil {
		return err
	}
	p, err := plan.New(r.s, h)
	if err != nil {
		return err
	}
	found, err := mapping.LedgerFind(ctx, sess.conn, h.Prefix, h.Stream, h.Sequence)
	if err != nil {
		return err
	}
	switch {
	case found != nil && !a.rebuild:
		records, err := sameAsApplied(ctx, rd, found)
		if err != nil {
			return err
		}
		res.Skipped, res.Records = true, records
		return nil
	case found != nil:
		if err := admit.Rebuild(ctx, sess.conn, h, found); err != nil {
			if _, rerr := sameAsApplied(ctx, rd, found); rerr != nil {
				return rerr // another file under the same name says so first
			}
			return err
		}
	default:
		if err := admit.Fresh(ctx, sess.conn, h, w, func(format string, args ...any) { warn(&r.opts, format, args...) }); err != nil {
			return err
		}
	}
	if err := sess.ensure(ctx, r.opts.DryRun); err != nil {
		return err
	}
	err = database.WithTx(ctx, sess.conn, nil, func(tx *sql.Tx) error {
		f := &fileTx{runner: r, sess: sess, a: a, plan: p, window: w, replaces: found, res: res}
		if err := f.apply(ctx, tx, rd); err != nil {
			if f.first != nil && f.first.Deferred() > 0 {
				return &write.DeferredFailed{Err: err}
			}
			return err
		}
		if r.opts.DryRun {
			return errDryRun // roll back: WithTx commits only on nil
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// sameFile makes sure the file read now is the one queued: a file
// rewritten in place between the listing and its turn would otherwise be
// applied where another stood in the order.
func sameFile(listed, now *syncfile.Header) error {
	if listed.Prefix != now.Prefix || listed.Stream != now.Stream || listed.Sequence != now.Sequence || listed.Mode != now.Mode || listed.Until != now.Until {
		return fmt.Errorf("the file changed while it waited for its turn (its header now says prefix %s stream %s sequence %d); nothing of it is applied, and the next run reads it again", now.Prefix, now.Stream, now.Sequence)
	}
	return nil
}

// sameAsApplied reads a file the ledger lists already to its verified
// trailer, to learn its checksum: the file applied before (it returns its
// record count), or a different one under the same name (rejected).
func sameAsApplied(ctx context.Context, rd *syncfile.Reader, found *mapping.LedgerEntry) (int64, error) {
	sha, records, err := drain(ctx, rd)
	if err != nil {
		return 0, err
	}
	if _, err := admit.CheckReplay(rd.Header(), sha, found); err != nil {
		return 0, err
	}
	return records, nil
}

// drain reads a file to its end, which verifies it, and returns its checksum.
func drain(ctx context.Context, r *syncfile.Reader) (string, int64, error) {
	for n := 0; ; n++ {
		if n%10000 == 0 && ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			t := r.Trailer()
			return t.SHA256, t.Records, nil
		}
		if err != nil {
			return "", 0, err
		}
	}
}

// fileTx is one file's transaction on its way through the passes.
type fileTx struct {
	*runner
	sess     *session
	a        attempt
	plan     *plan.Plan
	window   admit.Window
	replaces *mapping.LedgerEntry // --rebuild from a file applied before
	res      *Result
	started  time.Time
	first    *write.FirstPass
}

// apply runs the passes in the order a file travels them. Each pass
// returns what the next needs; the only things they share are the
// transaction's: its statements (masterdb.Tx) and the prefix's mapping
// (mapping.Store).
func (f *fileTx) apply(ctx context.Context, sqlTx *sql.Tx, rd *syncfile.Reader) error {
	f.started = time.Now()
	h := f.plan.Header
	// The ledger row comes first: the transaction's proof of itself (see
	// mapping.LedgerClaim), and the row two imports of one file collide on.
	claim, err := mapping.ClaimLedger(ctx, sqlTx, &mapping.LedgerEntry{
		Prefix: h.Prefix, Stream: h.Stream, Sequence: h.Sequence, Mode: h.Mode,
		Since: f.window.Since, Until: f.window.Until, SHA256: "", FileName: filepath.Base(f.a.path),
		Source: h.Source.Origin(),
	}, f.replaces != nil)
	if err != nil {
		return err
	}
	store, err := mapping.NewStore(sqlTx, h.Prefix)
	if err != nil {
		return err
	}
	defer store.Close()
	tx := masterdb.NewTx(sqlTx, h.Source.Fingerprint != f.plan.Schema.Fingerprint)
	defer tx.Close()
	target := reconcile.Target{Tx: tx, Store: store, Plan: f.plan, Facts: f.facts}
	counts := plan.Counts{}

	// --rebuild: every row of the prefix goes first.
	var rebuilt *reconcile.Rebuilt
	if f.a.rebuild {
		if rebuilt, err = target.Rebuild(ctx); err != nil {
			return fmt.Errorf("--rebuild: %w", err)
		}
		counts.Add(rebuilt.Deleted)
	}

	// The records, parsed as they are read. Deletions that go before the
	// upserts need to know the whole file first: the survey reads it to
	// its verified end before anything is written.
	records := plan.Read(rd, f.plan, func() (*syncfile.Reader, error) {
		return f.a.file.Reader(syncfile.ReaderOptions{SignKey: f.opts.SignKey})
	})
	defer records.Close()
	switch {
	case f.a.deletionsFirst:
		contents, err := records.Survey(ctx, surveyKeep, false)
		if err != nil {
			return err
		}
		deleted, err := target.First(ctx, contents)
		if err != nil {
			return err
		}
		counts.Add(deleted)
	case !f.a.rebuild && h.Mode == syncfile.ModeIncremental:
		contents, err := records.Survey(ctx, surveyKeep, true)
		if err != nil {
			return err
		}
		deleted, err := target.Early(ctx, contents)
		if err != nil {
			return err
		}
		counts.Add(deleted)
	}

	// The upserts, then the references that had to wait for them.
	before, err := target.NoteExisting(ctx)
	if err != nil {
		return err
	}
	ids := write.NewIDCache(store, f.opts.CacheLimit)
	first := &write.FirstPass{Tx: tx, Store: store, IDs: ids, Plan: f.plan, Facts: f.facts, Limits: f.sess.limits,
		NoReturning: f.sess.noReturning, Progress: f.progress, Warn: f.warn,
		Defer: !f.a.deletionsFirst && !f.a.rebuild}
	f.first = first
	applied, err := first.Run(ctx, records)
	if err != nil {
		return err
	}
	if err := write.SecondPass(ctx, tx, ids, f.facts, applied.Pending); err != nil {
		return err
	}

	// What the file says is gone; then the values master triggers changed.
	deleted, err := target.After(ctx, before, &applied.Carried)
	if err != nil {
		return err
	}
	counts.Add(deleted)
	if err := applied.InsertDeferred(ctx); err != nil {
		return err
	}
	counts.Add(applied.Counts)
	if err := repair.Restore(ctx, tx, f.plan.Schema, applied.Restore); err != nil {
		return err
	}

	// The checks, then the ledger row's proof, last.
	if err := target.CheckMassDelete(ctx, reconcile.MassDelete{Limit: f.opts.MaxDelete, Counts: counts, Rebuilt: rebuilt,
		Command: f.opts.ApplyAnyway, Path: f.a.path}); err != nil {
		return err
	}
	t := records.Trailer()
	if f.replaces != nil {
		if _, err := admit.CheckReplay(h, t.SHA256, f.replaces); err != nil {
			return err
		}
	}
	f.finish(counts, t.Records)
	if err := f.sess.holdLease(ctx, sqlTx); err != nil {
		return err
	}
	return claim.Confirm(ctx, sqlTx, t.SHA256, t.Records, f.res.Inserted, f.res.Updated, f.res.Deleted)
}

// finish copies the counts into the result, tables in apply order.
func (f *fileTx) finish(counts plan.Counts, records int64) {
	res := f.res
	res.Tables = res.Tables[:0]
	res.Inserted, res.Updated, res.Deleted, res.Matched, res.Renamed = 0, 0, 0, 0, 0
	for _, t := range f.plan.Schema.Tables {
		if tc, ok := counts[t.Name]; ok {
			res.Tables = append(res.Tables, TableStats{Table: t.Name, Inserted: tc.Inserted, Updated: tc.Updated, Deleted: tc.Deleted, Matched: tc.Matched, Renamed: tc.Renamed})
			res.Matched += tc.Matched
			res.Renamed += tc.Renamed
			res.Inserted += tc.Inserted
			res.Updated += tc.Updated
			res.Deleted += tc.Deleted
		}
	}
	res.Records = records
}

func (f *fileTx) progress(table string, records int64) {
	if f.opts.Progress != nil {
		f.opts.Progress(Progress{Path: f.a.path, Table: table, Records: records, Elapsed: time.Since(f.started)})
	}
}

func (f *fileTx) warn(format string, args ...any) {
	f.res.Warnings++
	warn(&f.opts, "%s", f.a.path+": warning: "+fmt.Sprintf(format, args...))
}
