// Package verify checks one child database against its rows on the
// master, through the prefix's mapping table: every synced row of the
// child must be on the master with equal synced columns (references
// compared through the mapping), and every mapped master row must still
// exist on the child. It reports differences by table, IDs and column
// names, never by values, since those hold people's personal data. Tables
// are read in chunks, so memory does not grow with them. It is the engine
// of the verify command, and reads both sides: it stands beside the flow
// from child to master, not in it.
package verify

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"

	"tributary/internal/database"
	"tributary/mapping"
	"tributary/schema"
)

// Kind is what is wrong with a row.
type Kind string

// The kinds of difference.
const (
	Missing Kind = "missing" // on the child, not (or not mapped) on the master
	Extra   Kind = "extra"   // on the master (or in the mapping), not on the child
	Changed Kind = "changed" // on both, with different synced columns
)

// Difference is one row that differs. ChildID and MasterID are set for
// mapped tables (0 when unknown); Key names a composite-key row by its
// child key ("contact_id=4,tag_id=2"), which is made of IDs only.
type Difference struct {
	Table    string
	ChildID  int64
	MasterID int64
	Key      string
	Kind     Kind
	Columns  []string // the columns that differ (Changed)
}

func (d Difference) String() string {
	id := d.Key
	if id == "" {
		id = fmt.Sprintf("child ID %d, master ID %d", d.ChildID, d.MasterID)
	}
	if d.Kind == Changed {
		return fmt.Sprintf("%s (%s): changed: %s", d.Table, id, strings.Join(d.Columns, ", "))
	}
	return fmt.Sprintf("%s (%s): %s", d.Table, id, d.Kind)
}

// Options tune a comparison.
type Options struct {
	// Chunk is how many rows are read per statement (default 1000).
	Chunk int
	// Tables limits the comparison to these tables (default: all synced).
	Tables []string
	// Checksums compares mapped tables chunk by chunk by checksums computed
	// on both servers first, and reads rows only of the chunks that differ
	// (see checksum.go): much faster on large, mostly equal tables.
	Checksums bool
	// Workers is how many chunks are checksummed at once (default 2).
	Workers int
	// Progress, when set, hears the child rows compared so far and the
	// total (Checksums only; called from one goroutine at a time).
	Progress func(done, total int64)
	// Keep is how many differences Compare keeps to list (0: all). Every
	// difference is counted all the same, so a wrong pairing of child and
	// master costs memory for Keep differences, not for millions.
	Keep int
}

// Report is what Compare found.
type Report struct {
	// Differences are the first Options.Keep differences found (all of
	// them when Keep is 0), sorted by table.
	Differences []Difference
	// Counts are the number of differences of each table and kind, all of
	// them, sorted by table and kind.
	Counts []Count
	// Total is the sum of Counts.
	Total int64
}

// Count is how many rows of one table differ in one way.
type Count struct {
	Table string
	Kind  Kind
	Rows  int64
}

// Compare compares the child with the master's copy of the prefix's rows.
// It keeps at most opts.Keep differences (all when Keep is 0) and counts
// them all. The schema is the map resolved against either side (they must
// agree).
func Compare(ctx context.Context, child, master *sql.DB, s *schema.Schema, prefix string, opts Options) (*Report, error) {
	if opts.Chunk <= 0 {
		opts.Chunk = 1000
	}
	store, err := mapping.NewStore(master, prefix)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	c := &comparer{child: child, master: master, s: s, store: store, chunk: opts.Chunk, prefix: prefix,
		workers: opts.Workers, progress: opts.Progress, keep: opts.Keep, counts: map[Count]int64{}}
	var tables []*schema.Table
	for _, t := range s.Tables {
		if len(opts.Tables) == 0 || contains(opts.Tables, t.Name) {
			tables = append(tables, t)
		}
	}
	chunks := map[string][]chunkRange{}
	if opts.Checksums {
		for _, t := range tables {
			if !t.Mapped {
				continue
			}
			cr, n, err := c.childBounds(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("compare %s: %w", t.Name, err)
			}
			chunks[t.Name] = cr
			c.total += n
		}
	}
	for _, t := range tables {
		var err error
		if cr, ok := chunks[t.Name]; ok {
			err = c.checksumTable(ctx, t, cr)
		} else {
			err = c.table(ctx, t)
		}
		if err != nil {
			return c.result(), fmt.Errorf("compare %s: %w", t.Name, err)
		}
	}
	return c.result(), nil
}

// add counts a difference and keeps it while fewer than keep are kept.
func (c *comparer) add(d Difference) {
	c.counts[Count{Table: d.Table, Kind: d.Kind}]++
	if c.keep == 0 || len(c.diffs) < c.keep {
		c.diffs = append(c.diffs, d)
	}
}

func (c *comparer) result() *Report {
	sort.SliceStable(c.diffs, func(i, j int) bool { return c.diffs[i].Table < c.diffs[j].Table })
	r := &Report{Differences: c.diffs}
	for k, n := range c.counts {
		k.Rows = n
		r.Counts = append(r.Counts, k)
		r.Total += n
	}
	sort.Slice(r.Counts, func(i, j int) bool {
		if r.Counts[i].Table != r.Counts[j].Table {
			return r.Counts[i].Table < r.Counts[j].Table
		}
		return r.Counts[i].Kind < r.Counts[j].Kind
	})
	return r
}

// comparer holds one comparison's connections and findings.
type comparer struct {
	child, master *sql.DB
	s             *schema.Schema
	store         *mapping.Store
	chunk         int
	prefix        string
	diffs         []Difference
	keep          int
	counts        map[Count]int64 // by table and kind; Rows unused

	workers     int
	progress    func(done, total int64)
	mu          sync.Mutex
	done, total int64
}

func (c *comparer) table(ctx context.Context, t *schema.Table) error {
	if t.Mapped {
		if err := c.mappedRows(ctx, t); err != nil {
			return err
		}
		return c.mappedExtras(ctx, t)
	}
	if err := c.compositeRows(ctx, t); err != nil {
		return err
	}
	return c.compositeExtras(ctx, t)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Unmapped lists the master rows of synced tables that no mapping table of
// the given prefixes explains: rows that none of those children has. For a
// composite-key table a row counts as explained when its first synced key
// reference points at a mapped row. Run it with every prefix the master
// holds to prove the master has no row that no child has.
func Unmapped(ctx context.Context, master *sql.DB, s *schema.Schema, prefixes []string, opts Options) ([]Difference, error) {
	if opts.Chunk <= 0 {
		opts.Chunk = 1000
	}
	var out []Difference
	for _, t := range s.Tables {
		col, target := t.Key[0], t.Name
		if !t.Mapped {
			if col, target = prefixColumn(t); col == "" {
				continue
			}
		}
		var conds []string
		var args []any
		for _, p := range prefixes {
			name, err := mapping.TableName(p)
			if err != nil {
				return out, err
			}
			conds = append(conds, "NOT EXISTS (SELECT 1 FROM "+database.QuoteIdent(name)+
				" m WHERE m.entity_table = ? AND m.master_entity_id = t."+database.QuoteIdent(col)+")")
			args = append(args, target)
		}
		where := "TRUE"
		if len(conds) > 0 {
			where = strings.Join(conds, " AND ")
		}
		c := &comparer{chunk: opts.Chunk}
		err := c.pages(ctx, master, t, t.Key, database.QuoteIdent(t.Name)+" t", where, args, func(rows [][]value) error {
			for _, r := range rows {
				d := Difference{Table: t.Name, Kind: Extra}
				if t.Mapped {
					d.MasterID, _ = asID(r[0])
				} else {
					d.Key = "master " + keyText(t, t.Key, r)
				}
				out = append(out, d)
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("unmapped rows of %s: %w", t.Name, err)
		}
	}
	return out, nil
}
