package importer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"tributary/importer/repair"
	"tributary/schema"
	"tributary/syncfile"
)

// runner applies files of any number of prefixes in one run (Run or
// RunInbox): what the master's triggers do is read once for all of them.
type runner struct {
	db    *sql.DB
	s     *schema.Schema
	facts *repair.Facts
	opts  Options
}

func newRunner(ctx context.Context, db *sql.DB, s *schema.Schema, opts Options) (*runner, error) {
	facts, err := loadFacts(ctx, db, s, &opts)
	if err != nil {
		return nil, err
	}
	return &runner{db: db, s: s, facts: facts, opts: opts}, nil
}

// queued is a file waiting for its turn: opened when it was listed, or
// (file nil) when its turn comes.
type queued struct {
	path string
	file *syncfile.File
}

func closeQueued(queue []queued) {
	for _, q := range queue {
		if q.file != nil {
			q.file.Close()
		}
	}
}

// applyPrefix applies one prefix's files in the order given, on one
// pinned connection that holds the prefix's lock and runs every
// transaction. For each file it tries, it fills result(i) and calls
// after(i), which says whether to go on with the next; the caller marks
// the files not tried. A file that is not open yet is opened at its turn
// (an error opening it is its result). Only the prefix's first full file
// is rebuilt from (Options.Rebuild). The error is what kept it from
// starting: the lock busy, the server unreachable.
func (r *runner) applyPrefix(ctx context.Context, prefix string, files []queued, result func(i int) *Result, after func(i int) bool) error {
	sess, err := openSession(ctx, r.db, prefix, &r.opts)
	if err != nil {
		return err
	}
	defer sess.close(ctx)
	rebuild := r.opts.Rebuild
	for i := range files {
		q, res := &files[i], result(i)
		if q.file == nil {
			if q.file, err = syncfile.OpenFile(q.path); err != nil {
				res.Err = err
				if !after(i) {
					return nil
				}
				continue
			}
		}
		h := q.file.Header()
		res.Stream, res.Mode = h.Stream, h.Mode
		useRebuild := rebuild && h.Mode == syncfile.ModeFull
		if useRebuild {
			rebuild = false
		}
		r.applyWithRetry(ctx, sess, q, useRebuild, res)
		if !after(i) {
			return nil
		}
	}
	return nil
}

// triggersTopic is the notices topic of the triggers warning.
const triggersTopic = "triggers import cannot undo"

// loadFacts reads what the master's triggers do, and warns about triggers
// whose effect on synced tables import cannot undo: once, and again when
// the list changes (see notices), not on every cron run.
func loadFacts(ctx context.Context, db *sql.DB, s *schema.Schema, opts *Options) (*repair.Facts, error) {
	facts, err := repair.Load(ctx, db, s)
	if err != nil {
		return nil, err
	}
	book := notices{db: db, dryRun: opts.DryRun}
	if len(facts.Opaque()) == 0 {
		book.gone(ctx, triggersTopic)
		return facts, nil
	}
	msg := fmt.Sprintf("warning: triggers of the master (%s) change synced tables in ways import cannot undo; the master's copy may differ from the children there", strings.Join(facts.Opaque(), ", "))
	if opts.Warn != nil && (opts.Verbose || book.tell(ctx, triggersTopic, msg)) {
		opts.Warn(msg)
	}
	return facts, nil
}
