package export

import (
	"context"
	"fmt"

	"tributary/schema"
)

// reach finds the rows whose left-out status matters to an incremental
// file: the rows in it and every row they reference, transitively (a row
// that references a left-out row is left out, however far up the chain
// the cause is). It is bounded by the file and its chains of references,
// not by the tables.
func reach(ctx context.Context, q querier, s *schema.Schema, sel *selection) (map[*schema.Table]*scope, error) {
	r := &reacher{q: q, s: s, scopes: map[*schema.Table]*scope{}, frontier: map[*schema.Table][]int64{}}
	for _, t := range s.Tables {
		switch {
		case sel.whole[t]:
			r.scopes[t] = &scope{all: true}
		case t.Mapped:
			r.scopes[t] = &scope{col: t.Key[0], ids: idSet{}}
		default:
			r.scopes[t] = &scope{col: t.Owner, ids: idSet{}}
		}
	}
	for _, t := range s.Tables {
		if err := r.start(ctx, t, sel); err != nil {
			return nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	for progressed := true; progressed; {
		progressed = false
		for _, t := range s.Tables {
			ids := r.frontier[t]
			if len(ids) == 0 {
				continue
			}
			r.frontier[t], progressed = nil, true
			if err := r.walk(ctx, t, ids); err != nil {
				return nil, fmt.Errorf("table %s: %w", t.Name, err)
			}
		}
	}
	return r.scopes, nil
}

type reacher struct {
	q        querier
	s        *schema.Schema
	scopes   map[*schema.Table]*scope
	frontier map[*schema.Table][]int64 // rows in scope whose references are not yet followed
}

// start puts the file's own rows of t in scope.
func (r *reacher) start(ctx context.Context, t *schema.Table, sel *selection) error {
	cols := refColumns(t)
	switch {
	case r.scopes[t].all:
		if len(cols) == 0 {
			return nil
		}
		return scanTargets(ctx, r.q, refScan{query: refsQuery(t, cols, ""), refs: followed(t)}, r.add)
	case t.Mapped:
		for id := range sel.ids[t] {
			r.scopes[t].ids[id] = struct{}{}
		}
		r.frontier[t] = sel.ids[t].sorted()
		return nil
	}
	owners := r.scopes[t].ids
	for _, set := range sel.owners[t] {
		for id := range set {
			owners[id] = struct{}{}
		}
	}
	for _, batch := range batches(owners.sorted()) {
		if err := scanTargets(ctx, r.q, refScan{query: refsQuery(t, cols, whereIn(t.Owner, batch)), refs: followed(t)}, r.add); err != nil {
			return err
		}
	}
	return nil
}

// walk follows the references of rows of t newly in scope.
func (r *reacher) walk(ctx context.Context, t *schema.Table, ids []int64) error {
	cols := refColumns(t)
	if len(cols) == 0 {
		return nil
	}
	for _, batch := range batches(ids) {
		if err := scanTargets(ctx, r.q, refScan{query: refsQuery(t, cols, whereIn(t.Key[0], batch)), refs: followed(t)}, r.add); err != nil {
			return err
		}
	}
	return nil
}

// add puts a referenced row in scope.
func (r *reacher) add(f target) {
	t, ok := r.s.Table(f.table)
	if !ok || !t.Mapped {
		return // shared or not synced: the referencing row's own check
	}
	sc := r.scopes[t]
	if sc.all || sc.ids.has(f.id) {
		return
	}
	sc.ids[f.id] = struct{}{}
	r.frontier[t] = append(r.frontier[t], f.id)
}
