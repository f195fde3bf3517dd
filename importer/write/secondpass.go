package write

import (
	"context"
	"fmt"

	"tributary/importer/masterdb"
	"tributary/importer/plan"
	"tributary/importer/repair"
)

// SecondPass fills the references the first pass left waiting: those
// closing a cycle, pointing at their own table, or pointing forward in the
// file (polymorphic ones included). Every row of the file is on the master
// by now, so a target without a mapping rejects the file. ids is the first
// pass's cache, which knows the master IDs of every row it wrote.
func SecondPass(ctx context.Context, tx *masterdb.Tx, ids *IDCache, facts *repair.Facts, pending []Pending) error {
	if len(pending) == 0 {
		return nil
	}
	s := &second{tx: tx, ids: ids, facts: facts}
	need := map[string][]int64{}
	for _, p := range pending {
		need[p.Target] = append(need[p.Target], p.Child)
	}
	if err := ids.Resolve(ctx, need); err != nil {
		return fmt.Errorf("second pass: %w", err)
	}
	for _, p := range pending {
		if _, ok := ids.Get(p.Target, p.Child); !ok {
			return s.fill(ctx, p) // rejects the file, naming the line
		}
	}
	if err := s.fillMapped(ctx, pending); err != nil {
		return err
	}
	for _, p := range pending {
		if !p.Table.Table.Mapped {
			if err := s.fill(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// second is the second pass under way.
type second struct {
	tx    *masterdb.Tx
	ids   *IDCache
	facts *repair.Facts
}

// fillsPerStatement bounds the rows one second-pass statement sets: the
// server tries a CASE's WHENs one by one, so its cost grows with the
// square of the rows per statement.
const fillsPerStatement = 64

// fillMapped fills the pending references of mapped tables, grouped by
// table and column, many rows per statement: UPDATE t SET c = CASE id
// WHEN ? THEN ? ... END WHERE id IN (...). Each row's column is set once,
// as one UPDATE per reference would; a refused statement (rolled back by
// the server alone) is done again one reference at a time, so its error
// names the line.
func (s *second) fillMapped(ctx context.Context, pending []Pending) error {
	type group struct {
		tp  *plan.Table
		col int
	}
	groups := map[group][]Pending{}
	var order []group
	for _, p := range pending {
		if !p.Table.Table.Mapped {
			continue
		}
		g := group{p.Table, p.Col}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], p)
	}
	for _, g := range order {
		refs := groups[g]
		for start := 0; start < len(refs); start += fillsPerStatement {
			chunk := refs[start:min(start+fillsPerStatement, len(refs))]
			if err := s.fillChunk(ctx, g.tp, g.col, chunk); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *second) fillChunk(ctx context.Context, tp *plan.Table, col int, refs []Pending) error {
	// One row may hold a column once only: repeats (none are expected) go
	// one at a time, after the rest.
	seen := make(map[int64]bool, len(refs))
	var once, again []Pending
	for _, p := range refs {
		if seen[p.Master] {
			again = append(again, p)
			continue
		}
		seen[p.Master] = true
		once = append(once, p)
	}
	if len(once) > 1 {
		t := tp.Table
		c := tp.Cols[col].Name
		size := fillsPerStatement
		for _, sz := range updateSizes {
			if len(once) <= sz && sz < size {
				size = sz
			}
		}
		ids := make([]any, size)
		vals := make([][]any, size)
		for i := range size {
			p := once[min(i, len(once)-1)]
			m, _ := s.ids.Get(p.Target, p.Child)
			ids[i], vals[i] = p.Master, []any{m}
		}
		q, args, err := masterdb.UpdateCase(t.Name, t.Key[0], []string{c}, ids, vals, s.facts.AutoUpdate(t.Name))
		if err != nil {
			return err
		}
		_, err = s.tx.Exec(ctx, q, args)
		if err == nil {
			once = nil
		} else if !masterdb.StatementRefused(ctx, err) {
			return fmt.Errorf("second pass: set %s.%s: %w", t.Name, c, err)
		}
	}
	for _, p := range append(once, again...) {
		if err := s.fill(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (s *second) fill(ctx context.Context, p Pending) error {
	c := &p.Table.Cols[p.Col]
	m, ok := s.ids.Get(p.Target, p.Child)
	if !ok {
		return unresolved(p.Table, c, p.Line, p.Target, p.Child)
	}
	t := p.Table.Table
	key := []any{p.Master}
	if !t.Mapped {
		key = p.Key
	}
	q, args, err := masterdb.UpdateByKey(t.Name, []string{c.Name}, []any{m}, t.Key, key, s.facts.AutoUpdate(t.Name))
	if err != nil {
		return err
	}
	if _, err := s.tx.Exec(ctx, q, args); err != nil {
		return fmt.Errorf("line %d: second pass: set %s.%s: %w", p.Line, t.Name, c.Name, err)
	}
	return nil
}
