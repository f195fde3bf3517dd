package write

import (
	"context"
	"errors"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
)

// A full file is applied upserts first, deletions last (see
// reconcile.First for why). When the child deleted a row and made a new
// one with the same unique value (a tag taken off a contact and put back),
// the new row's insert collides with the old row, which the file deletes
// only at its end. Rather than fail the whole file and apply it again with
// its deletions first, the first pass sets such a row aside and inserts it
// after the deletions (InsertDeferred). If the value is still taken then,
// or anything else of the file fails once a row was set aside (a row that
// references it), the file is applied again with its deletions first, as
// before: DeferredFailed marks that error.

// deferred is one table's rows set aside.
type deferred struct {
	tp   *plan.Table
	rows []*plan.Row
}

// DeferredFailed wraps an error of a file whose first pass set rows aside:
// applying it with its deletions first is the remedy.
type DeferredFailed struct{ Err error }

func (e *DeferredFailed) Error() string { return e.Err.Error() }
func (e *DeferredFailed) Unwrap() error { return e.Err }

// IsDeferredFailed reports whether err is a DeferredFailed.
func IsDeferredFailed(err error) bool {
	var d *DeferredFailed
	return errors.As(err, &d)
}

// Deferred reports how many rows the last Run set aside so far, also when
// it failed: a failure then calls for the deletions-first order.
func (fp *FirstPass) Deferred() int { return fp.deferredRows }

// deferrable reports whether a row the master refused for a unique value
// may wait for the file's deletions: the file is full (it deletes every
// row of the prefix it does not carry), the key has no policy (a policy
// decides itself), the row is new to the master and has no reference
// waiting for the second pass (which would look for it by master ID).
func (w *tableWriter) deferrable(row *plan.Row, err error) bool {
	if !w.r.Defer || !w.r.Plan.Full() || row.Master != 0 || w.pointing[row.Line] {
		return false
	}
	key, ok := masterdb.DuplicateKey(err)
	if !ok {
		return false
	}
	_, has := w.tp.Table.PolicyByIndex(key)
	return !has
}

// setAside keeps row for InsertDeferred.
func (w *tableWriter) setAside(row *plan.Row) {
	r := w.r
	if n := len(r.deferred); n == 0 || r.deferred[n-1].tp != w.tp {
		r.deferred = append(r.deferred, deferred{tp: w.tp})
	}
	d := &r.deferred[len(r.deferred)-1]
	d.rows = append(d.rows, row)
	r.deferredRows++
	if w.aside == nil {
		w.aside = map[*plan.Row]bool{}
	}
	w.aside[row] = true
}

// InsertDeferred inserts the rows the first pass set aside, once the
// file's deletions freed their values, and records their mappings and
// the values master triggers may change. A value still taken fails the
// file (see DeferredFailed).
func (a *Applied) InsertDeferred(ctx context.Context) error {
	r := a.run
	if r == nil || len(r.deferred) == 0 {
		return nil
	}
	r.Defer = false // a second refusal is final
	for _, d := range r.deferred {
		w := r.writer(d.tp)
		w.rows = d.rows
		if err := w.insert(ctx, d.rows); err != nil {
			return err
		}
		a.Restore.Remember(d.tp, d.rows)
	}
	r.deferred = nil
	return nil
}

// unlessAside returns rows without those set aside in this batch.
func (w *tableWriter) unlessAside(rows []*plan.Row) []*plan.Row {
	if len(w.aside) == 0 {
		return rows
	}
	kept := make([]*plan.Row, 0, len(rows))
	for _, row := range rows {
		if !w.aside[row] {
			kept = append(kept, row)
		}
	}
	return kept
}
