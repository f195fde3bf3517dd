// Package importer applies sync files on the master (DESIGN.md sections 4,
// 5 and 6): each file in one transaction, under a per-prefix lock, checked
// against the ledger, with every child ID rewritten to a master ID through
// the prefix's mapping table. It knows nothing of the command line: it
// takes a connection, a resolved schema and options, and returns results
// and typed errors (see exitcode).
//
// This package runs the import: it lists the files (named ones, Run, or an
// inbox directory, RunInbox), applies each prefix's files in order under
// its lock (prefix.go), tries a file again when the server asks for it
// (retry.go), and applies one file in one transaction (apply.go), where
// the route of a file through its passes is spelled out. The passes live
// in packages of their own: admit (may it be applied now?), plan (the
// file as the master understands it), write (the upserts and the
// references filled after them), reconcile (the deletions), repair (what
// the master's triggers did), all through masterdb (the statements).
package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"tributary/internal/exitcode"
	"tributary/schema"
	"tributary/syncfile"
)

// Options tune an import. The zero value is ready to use.
type Options struct {
	// Rebuild deletes a prefix's rows and mappings before applying its
	// first full file, which is then inserted afresh (new master IDs).
	Rebuild bool
	// DryRun runs every check and all the work of each file, then rolls
	// its transaction back instead of committing: the results say what
	// would change, and no table's rows change (mapping and ledger tables
	// a first import would create are made as temporary tables). Files of
	// a prefix after one that would change the master are not tried, since
	// each builds on the one before. See dryrun.go.
	DryRun bool
	// MaxDelete refuses a file that deletes more than this share of the
	// rows a prefix holds in any table (and more than 100 rows): a child
	// restored from an empty backup must not empty its branch.
	MaxDelete DeleteLimit
	// ApplyAnyway, when set, renders the command that applies a file the
	// limit refused anyway (the caller's own flags and --max-delete 100%),
	// for the error and the inbox's .why file.
	ApplyAnyway func(path string) string
	// SignKey, when set, makes a valid HMAC in every file mandatory.
	SignKey []byte
	// BatchRows is the number of rows per multi-row statement (default 1000).
	BatchRows int
	// Retries is how often a file is tried again after a deadlock or lock
	// wait timeout (default 3); RetryBackoff the first pause (default 1s,
	// doubled each time).
	Retries      int
	RetryBackoff time.Duration
	// LockWaitTimeout, when set, bounds how long one statement waits for a
	// row lock (innodb_lock_wait_timeout, whole seconds, at least 1).
	LockWaitTimeout time.Duration
	// CacheLimit bounds the child-to-master ID cache (default 1M IDs, about
	// 28 MB).
	CacheLimit int
	// Progress, when set, is called after each batch.
	Progress func(Progress)
	// Warn, when set, receives warnings (one line each, no row values).
	// A warning that would come back on every run (triggers import cannot
	// undo) is given once per change of its content, remembered in the
	// master's notices table (mapping.NoticesTable); with Verbose, always.
	Warn    func(string)
	Verbose bool
}

// Progress reports how far the import of one file has come.
type Progress struct {
	Path    string
	Table   string
	Records int64 // records read so far
	Elapsed time.Duration
}

// Result is what happened to one file.
type Result struct {
	Path     string
	Prefix   string
	Stream   string
	Sequence uint64
	Mode     string
	Records  int64
	// Skipped: the file was applied before (same checksum); nothing changed.
	Skipped bool
	// NotTried: a dry run did not try the file (see Options.DryRun).
	NotTried bool
	// Quiet: the file is stale (its Err is ErrStale) and was told about
	// before, when it first came: the same file sent again needs no word.
	Quiet    bool
	Tables   []TableStats // tables with changes, in apply order
	Inserted int64
	Updated  int64
	Deleted  int64
	// Matched: rows mapped to a master row holding their unique value
	// (match policy) instead of being inserted; Renamed: rows written
	// with their unique value renamed (rename policy).
	Matched  int64
	Renamed  int64
	Warnings int
	Attempts int
	Duration time.Duration
	// Err is why the file was not applied; nil when it was (or was skipped).
	Err error
}

// TableStats counts one table's changes.
type TableStats struct {
	Table    string
	Inserted int64
	Updated  int64
	Deleted  int64
	Matched  int64
	Renamed  int64
}

// Run applies files in order of (prefix, sequence), whatever order they
// are named in. Each file is opened once, when it is listed (its header
// says where it goes in the order), and applied in its own transaction or
// not at all. A rejected file does not stop the others; an interruption
// stops everything. The returned error joins every file's error and
// carries the exit code that matters most (see exitcode): interrupted,
// failure, rejected, locked.
func Run(ctx context.Context, db *sql.DB, s *schema.Schema, files []string, opts Options) ([]Result, error) {
	opts.defaults()
	queue, results := listFiles(files)
	defer closeQueued(queue)
	if len(queue) > 0 {
		r, err := newRunner(ctx, db, s, opts)
		if err != nil {
			return results, exitcode.Wrap(exitcode.Failure, err)
		}
		for _, group := range byPrefix(queue) {
			if ctx.Err() != nil {
				break
			}
			results = append(results, r.applyNamed(ctx, group)...)
		}
	}
	quietStale(ctx, notices{db: db, dryRun: opts.DryRun}, results)
	return results, combine(ctx, results)
}

func (o *Options) defaults() {
	if o.BatchRows <= 0 {
		o.BatchRows = 1000
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = time.Second
	}
}

// listFiles opens each file and reads its header; files that cannot be
// opened or whose header is unreadable become results with their error (a
// rejection: the master is not touched for them). The queue is in order
// of (prefix, sequence, window end).
func listFiles(files []string) ([]queued, []Result) {
	var queue []queued
	var failed []Result
	for _, path := range files {
		f, err := syncfile.OpenFile(path)
		if err != nil {
			failed = append(failed, Result{Path: path, Err: err})
			continue
		}
		queue = append(queue, queued{path: path, file: f})
	}
	sort.SliceStable(queue, func(i, j int) bool {
		a, b := queue[i].file.Header(), queue[j].file.Header()
		if a.Prefix != b.Prefix {
			return a.Prefix < b.Prefix
		}
		if a.Sequence != b.Sequence {
			return a.Sequence < b.Sequence
		}
		return a.Until < b.Until
	})
	return queue, failed
}

func byPrefix(queue []queued) [][]queued {
	var groups [][]queued
	for i, q := range queue {
		if i == 0 || q.file.Header().Prefix != queue[i-1].file.Header().Prefix {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], q)
	}
	return groups
}

// combine joins the files' errors under the most pressing exit code.
func combine(ctx context.Context, results []Result) error {
	var errs []error
	code := exitcode.OK
	rank := map[int]int{exitcode.Interrupted: 5, exitcode.Failure: 4, exitcode.Usage: 3, exitcode.Rejected: 2, exitcode.Locked: 1}
	for _, r := range results {
		if r.Err == nil {
			continue
		}
		errs = append(errs, r.Err)
		c := exitcode.Code(r.Err)
		if interrupted(ctx, r.Err) {
			c = exitcode.Interrupted
		}
		if rank[c] > rank[code] {
			code = c
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return exitcode.Wrap(code, errors.Join(errs...))
}

// interrupted reports whether err comes from the context being cancelled,
// either directly or as the driver's broken connection after it.
func interrupted(ctx context.Context, err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || ctx.Err() != nil)
}

// applyNamed applies one prefix's named files: a rejected file does not
// stop the ones after it, a failure does; a dry run stops after the first
// file that would change the master.
func (r *runner) applyNamed(ctx context.Context, group []queued) []Result {
	results := make([]Result, len(group))
	for i, q := range group {
		h := q.file.Header()
		results[i] = Result{Path: q.path, Prefix: h.Prefix, Stream: h.Stream, Sequence: h.Sequence, Mode: h.Mode}
	}
	prefix := group[0].file.Header().Prefix
	if r.opts.Rebuild && !hasFull(group) {
		err := exitcode.Errorf(exitcode.Usage, "--rebuild: no full file of prefix %s among the files named; give a full file (tributary export --full)", prefix)
		for i := range results {
			results[i].Err = err
		}
		return results
	}
	err := r.applyPrefix(ctx, prefix, group, func(i int) *Result { return &results[i] }, func(i int) bool {
		res := &results[i]
		if res.Err != nil && !isReject(res.Err) {
			skipRest(results[i+1:], res.Path)
			return false
		}
		if r.opts.DryRun && res.Err == nil && !res.Skipped {
			dryRunRest(results[i+1:])
			return false
		}
		return true
	})
	if err != nil {
		for i := range results {
			results[i].Err = fmt.Errorf("%s: %w", results[i].Path, err)
		}
	}
	return results
}

func hasFull(group []queued) bool {
	for _, q := range group {
		if q.file.Header().Mode == syncfile.ModeFull {
			return true
		}
	}
	return false
}

func skipRest(rest []Result, failed string) {
	for i := range rest {
		rest[i].Err = fmt.Errorf("%s: not applied: an earlier file of the prefix failed (%s)", rest[i].Path, filepath.Base(failed))
	}
}
