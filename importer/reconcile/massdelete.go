package importer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"tributary/internal/exitcode"
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

// ErrMassDelete: the file would delete more of a prefix's rows than
// --max-delete allows.
var ErrMassDelete = errors.New("mass deletion refused")

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
	path    string
}

func (e *MassDeleteError) Error() string {
	parts := make([]string, len(e.Tables))
	for i, t := range e.Tables {
		parts[i] = fmt.Sprintf("%d of the %d rows of %s (%s)", t.Deleted, t.Held, t.Table, share(t.Deleted, t.Held))
	}
	msg := fmt.Sprintf("the file would delete %s that prefix %s holds on the master, more than --max-delete %s allows. The child may have lost its data (restored from an empty or old backup, or an export of the wrong database). If it really deleted these rows, apply the file anyway",
		strings.Join(parts, ", "), e.Prefix, e.Limit)
	if cmd := e.applyAnyway(e.path); cmd != "" {
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

// Unwrap makes the error an ErrMassDelete.
func (e *MassDeleteError) Unwrap() error { return ErrMassDelete }

func share(n, of int64) string {
	if of <= 0 {
		return "all"
	}
	return strconv.FormatFloat(float64(n)*100/float64(of), 'f', 0, 64) + "%"
}

// checkMassDelete refuses the file when it deletes more of a table's rows
// than the limit allows. It runs after every deletion of the file, inside
// its transaction, so the refusal rolls everything back. The rows the
// prefix held are counted only for a table past the floor, so an ordinary
// file pays nothing for the check.
func (f *fileRun) checkMassDelete(ctx context.Context) error {
	limit := f.opts.MaxDelete
	if limit.Percent() >= 100 {
		return nil
	}
	var over []TableDeletion
	for _, t := range f.plan.s.Tables {
		st := f.stats[t.Name]
		if st == nil {
			continue
		}
		lost := st.Deleted
		if f.rebuilt {
			// --rebuild deletes every row and inserts the file's again:
			// what it loses is what does not come back.
			lost -= st.Inserted
		}
		if lost <= deleteFloor {
			continue
		}
		held, err := f.heldBefore(ctx, t.Name, st)
		if err != nil {
			return err
		}
		if !limit.allows(lost, held) {
			over = append(over, TableDeletion{Table: t.Name, Deleted: lost, Held: held})
		}
	}
	if len(over) == 0 {
		return nil
	}
	return &MassDeleteError{Prefix: f.plan.header.Prefix, Limit: limit, Tables: over, Command: f.opts.ApplyAnyway, path: f.path}
}

// heldBefore counts the rows the prefix held in table before the file:
// what it holds now, less what the file added, plus what it removed.
func (f *fileRun) heldBefore(ctx context.Context, table string, st *TableStats) (int64, error) {
	if n, ok := f.held[table]; ok {
		return n, nil // counted by --rebuild before it deleted them
	}
	t, _ := f.plan.s.Table(table)
	if t.Mapped {
		now, err := f.store.Count(ctx, table)
		if err != nil {
			return 0, err
		}
		return now - f.store.Added(table), nil
	}
	now, err := f.prefixRowCount(ctx, t)
	if err != nil {
		return 0, err
	}
	return now - st.Inserted + st.Deleted, nil
}

// massDeleteOf returns the MassDeleteError inside err, if any.
func massDeleteOf(err error) *MassDeleteError {
	var md *MassDeleteError
	if errors.As(err, &md) {
		return md
	}
	return nil
}
