package importer

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tributary/mapping"
	"tributary/syncfile"
)

// limits size the multi-row statements.
type limits struct {
	rows   int // rows per statement
	bytes  int // bound bytes per statement, well under max_allowed_packet
	params int // placeholders per statement (the protocol allows 65535)
}

// fileRun applies one file inside its transaction: the first pass (upserts
// in the file's order, batched per table), the second pass (deferred and
// forward references), then the deletions the file implies. It lives for
// one attempt; a retry starts a new one.
type fileRun struct {
	path   string
	plan   *plan
	tx     *sql.Tx
	store  *mapping.Store
	cache  *idCache
	stmts  *stmtCache
	limits limits
	opts   *Options
	res    *Result

	pending []pendingRef
	sent    map[string]*idSet // mapped tables: master IDs the file carries
	// updated: mapped tables: master IDs of rows that existed before the
	// file (the others were inserted by it and can own no older rows).
	updated map[string]*idSet
	// hadRows: mapped tables that had mappings when the file started; a
	// table without them holds only the file's rows, so nothing to delete.
	hadRows  map[string]bool
	sentKeys map[string]map[string]bool // composite tables: encoded master keys the file carries
	live     map[string][][2]int64      // track tables: the live child-ID ranges
	stats    map[string]*TableStats
	records  int64
	started  time.Time
	// exact: the file comes from a schema that differs from the master's,
	// so every write is checked for values the master changed.
	exact   bool
	facts   *masterFacts
	repairs map[string]*repairSet
	// rebuilt: --rebuild deleted the prefix's rows first; held counts the
	// rows of each table it deleted, for the mass-deletion check.
	rebuilt bool
	held    map[string]int64
}

// pendingRef is a reference filled in the second pass.
type pendingRef struct {
	tp     *tablePlan
	col    int
	master int64 // the row's master ID (mapped tables)
	key    []any // the row's master key (composite tables)
	target string
	child  int64
	line   int64
}

func newFileRun(path string, p *plan, tx *sql.Tx, store *mapping.Store, lim limits, facts *masterFacts, opts *Options, res *Result) *fileRun {
	return &fileRun{
		path: path, plan: p, tx: tx, store: store, limits: lim, opts: opts, res: res, facts: facts,
		repairs:  map[string]*repairSet{},
		held:     map[string]int64{},
		cache:    newIDCache(store, opts.CacheLimit),
		stmts:    newStmtCache(tx),
		sent:     map[string]*idSet{},
		updated:  map[string]*idSet{},
		hadRows:  map[string]bool{},
		sentKeys: map[string]map[string]bool{},
		live:     map[string][][2]int64{},
		stats:    map[string]*TableStats{},
		started:  time.Now(),
		exact:    p.header.Source.Fingerprint != p.s.Fingerprint,
	}
}

func (f *fileRun) close() { f.stmts.close() }

// apply runs the whole file. Only when the reader has verified the trailer
// (count, checksum, signature) does it go on to the deletions; any error
// leaves the transaction to be rolled back.
func (f *fileRun) apply(ctx context.Context, r *syncfile.Reader) error {
	if err := f.noteExisting(ctx); err != nil {
		return err
	}
	if err := f.firstPass(ctx, r); err != nil {
		return err
	}
	if err := f.secondPass(ctx); err != nil {
		return err
	}
	for _, s := range f.sent {
		s.seal()
	}
	for _, s := range f.updated {
		s.seal()
	}
	if err := f.deletions(ctx); err != nil {
		return err
	}
	if err := f.runRepairs(ctx); err != nil {
		return err
	}
	return f.checkMassDelete(ctx)
}

// noteExisting records which of the file's mapped tables already have rows
// of this prefix on the master: one cheap look-up per table.
func (f *fileRun) noteExisting(ctx context.Context) error {
	for _, tp := range f.plan.ordered {
		if !tp.t.Mapped {
			continue
		}
		has, err := f.store.Any(ctx, tp.t.Name)
		if err != nil {
			return err
		}
		f.hadRows[tp.t.Name] = has
	}
	return nil
}

func (f *fileRun) tableStats(table string) *TableStats {
	st := f.stats[table]
	if st == nil {
		st = &TableStats{Table: table}
		f.stats[table] = st
	}
	return st
}

// finish copies the counters into the result, tables in apply order.
func (f *fileRun) finish() {
	f.res.Tables = f.res.Tables[:0]
	f.res.Inserted, f.res.Updated, f.res.Deleted = 0, 0, 0
	for _, t := range f.plan.s.Tables {
		if st, ok := f.stats[t.Name]; ok {
			f.res.Tables = append(f.res.Tables, *st)
			f.res.Inserted += st.Inserted
			f.res.Updated += st.Updated
			f.res.Deleted += st.Deleted
		}
	}
}

func (f *fileRun) progress(table string) {
	if f.opts.Progress != nil {
		f.opts.Progress(Progress{Path: f.path, Table: table, Records: f.records, Elapsed: time.Since(f.started)})
	}
}

func (f *fileRun) warn(format string, args ...any) {
	f.res.Warnings++
	if f.opts.Warn != nil {
		f.opts.Warn(f.path + ": warning: " + fmt.Sprintf(format, args...))
	}
}

func (f *fileRun) sentSet(table string) *idSet { return setOf(f.sent, table) }

func setOf(m map[string]*idSet, table string) *idSet {
	s := m[table]
	if s == nil {
		s = &idSet{}
		m[table] = s
	}
	return s
}
