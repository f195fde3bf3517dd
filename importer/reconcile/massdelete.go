package reconcile

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tributary/importer/plan"
	"tributary/importer/reject"
	"tributary/internal/exitcode"
	"tributary/schema"
)

// DefaultMaxDelete is the share of a table's rows of a prefix that one
// file may delete when Options.MaxDelete is not set (DESIGN.md section 5,
// step 2a).
const DefaultMaxDelete = 10

// deleteFloor is how many rows of a table a file may always delete,
// whatever share of the prefix's rows that is: a small branch deleting a
// few rows is not a lost database.
const deleteFloor = 100

// DeleteLimit bounds the rows one file may delete in any table, as a
// percentage of the rows the prefix holds there before the file. The zero
// value is the default, DefaultMaxDelete; 100 allows everything.
type DeleteLimit struct {
	percent float64
	set     bool
}

// ParseDeleteLimit reads a --max-delete value: a percentage from 0 to 100,
// with or without the % sign ("10%", "2.5", "100%").
func ParseDeleteLimit(s string) (DeleteLimit, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
	if err != nil || v < 0 || v > 100 {
		return DeleteLimit{}, exitcode.Errorf(exitcode.Usage, "--max-delete %q: give a percentage from 0%% to 100%% (100%% allows any deletion)", s)
	}
	return DeleteLimit{percent: v, set: true}, nil
}

// Percent is the limit in percent.
func (l DeleteLimit) Percent() float64 {
	if !l.set {
		return DefaultMaxDelete
	}
	return l.percent
}

func (l DeleteLimit) String() string { return strconv.FormatFloat(l.Percent(), 'f', -1, 64) + "%" }

// allows reports whether deleting n of held rows stays within the limit.
func (l DeleteLimit) allows(n, held int64) bool {
	return n <= deleteFloor || l.Percent() >= 100 || float64(n) <= float64(held)*l.Percent()/100
}

// TableDeletion is what a refused file would have deleted in one table.
type TableDeletion struct {
	Table   string
	Deleted int64 // rows the file deletes (owned rows and ON DELETE effects included)
	Held    int64 // rows the prefix held in the table before the file
}

// MassDeleteError is the cause of a rejection by --max-delete: the counts
// per table over the limit, and the command that applies the file anyway.
type MassDeleteError struct {
	Prefix string
	Limit  DeleteLimit
	Tables []TableDeletion
	// Command renders the command line that applies the file at path
	// anyway; nil when the caller gave none (Options.ApplyAnyway).
	Command func(path string) string
	// Path is the refused file's.
	Path string
}

func (e *MassDeleteError) Error() string {
	parts := make([]string, len(e.Tables))
	for i, t := range e.Tables {
		parts[i] = fmt.Sprintf("%d of the %d rows of %s (%s)", t.Deleted, t.Held, t.Table, share(t.Deleted, t.Held))
	}
	msg := fmt.Sprintf("the file would delete %s that prefix %s holds on the master, more than --max-delete %s allows. The child may have lost its data (restored from an empty or old backup, or an export of the wrong database). If it really deleted these rows, apply the file anyway",
		strings.Join(parts, ", "), e.Prefix, e.Limit)
	if cmd := e.applyAnyway(e.Path); cmd != "" {
		return msg + ": " + cmd
	}
	return msg + " with --max-delete 100%"
}

func (e *MassDeleteError) applyAnyway(path string) string {
	if e.Command == nil || path == "" {
		return ""
	}
	return e.Command(path)
}

// Unwrap makes the error a reject.ErrMassDelete.
func (e *MassDeleteError) Unwrap() error { return reject.ErrMassDelete }

func share(n, of int64) string {
	if of <= 0 {
		return "all"
	}
	return strconv.FormatFloat(float64(n)*100/float64(of), 'f', 0, 64) + "%"
}

// MassDelete is what CheckMassDelete judges a file by.
type MassDelete struct {
	Limit DeleteLimit
	// Counts are the rows the file changed, per table, every pass's.
	Counts plan.Counts
	// Rebuilt, when set, is what --rebuild deleted first: the file then
	// loses only what it does not insert again.
	Rebuilt *Rebuilt
	// Command and Path fill the error's command line (MassDeleteError).
	Command func(path string) string
	Path    string
}

// CheckMassDelete refuses the file when it deletes more of a table's rows
// than the limit allows. It runs after every deletion of the file, inside
// its transaction, so the refusal rolls everything back. The rows the
// prefix held are counted only for a table past the floor, so an ordinary
// file pays nothing for the check.
func (t Target) CheckMassDelete(ctx context.Context, m MassDelete) error {
	if m.Limit.Percent() >= 100 {
		return nil
	}
	var over []TableDeletion
	for _, tab := range t.Plan.Schema.Tables {
		tc := m.Counts[tab.Name]
		if tc == nil {
			continue
		}
		lost := tc.Deleted
		if m.Rebuilt != nil {
			// --rebuild deletes every row and inserts the file's again:
			// what it loses is what does not come back.
			lost -= tc.Inserted
		}
		if lost <= deleteFloor {
			continue
		}
		held, err := t.heldBefore(ctx, tab, tc, m.Rebuilt)
		if err != nil {
			return err
		}
		if !m.Limit.allows(lost, held) {
			over = append(over, TableDeletion{Table: tab.Name, Deleted: lost, Held: held})
		}
	}
	if len(over) == 0 {
		return nil
	}
	return &MassDeleteError{Prefix: t.Plan.Header.Prefix, Limit: m.Limit, Tables: over, Command: m.Command, Path: m.Path}
}

// heldBefore counts the rows the prefix held in table before the file:
// what it holds now, less what the file added, plus what it removed.
func (t Target) heldBefore(ctx context.Context, table *schema.Table, tc *plan.TableCounts, rebuilt *Rebuilt) (int64, error) {
	if rebuilt != nil {
		if n, ok := rebuilt.Held[table.Name]; ok {
			return n, nil // counted by --rebuild before it deleted them
		}
	}
	if table.Mapped {
		now, err := t.Store.Count(ctx, table.Name)
		if err != nil {
			return 0, err
		}
		return now - t.Store.Added(table.Name), nil
	}
	now, err := t.prefixRowCount(ctx, table)
	if err != nil {
		return 0, err
	}
	return now - tc.Inserted + tc.Deleted, nil
}
