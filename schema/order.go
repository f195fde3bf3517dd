package schema

import (
	"slices"
	"sort"
	"strings"
)

// edge is "table needs target applied first" through one reference.
type edge struct {
	from, to *Table
	ref      *Reference
	// soft edges come from polymorphic references: their real target is
	// known only per row, so they order tables where they can but never
	// make a cycle (import resolves such a row in its second pass).
	soft bool
}

// order sorts tables so that each comes after what it references, deferring
// the references that close a cycle to import's second pass, and reports a
// cycle that cannot be broken (no nullable reference in it).
func (r *resolver) order(tables []*Table) []*Table {
	edges := r.edges(tables)
	remaining := slices.Clone(tables)
	var ordered []*Table
	for len(remaining) > 0 {
		ready := readyTables(remaining, edges, true)
		if len(ready) == 0 {
			ready = readyTables(remaining, edges, false)
		}
		if len(ready) == 0 {
			if !r.deferOne(remaining, edges) {
				break
			}
			continue
		}
		for _, t := range ready {
			t.Order = len(ordered)
			ordered = append(ordered, t)
		}
		remaining = slices.DeleteFunc(remaining, func(t *Table) bool { return slices.Contains(ready, t) })
	}
	return ordered
}

// edges collects ordering constraints; a reference to its own table is
// always deferred (a contact's employer may be inserted after it).
func (r *resolver) edges(tables []*Table) []*edge {
	byName := map[string]*Table{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	var edges []*edge
	for _, t := range tables {
		for _, ref := range t.Refs {
			switch {
			case ref.Shared:
			case ref.Polymorphic():
				for _, target := range tables {
					if target != t {
						edges = append(edges, &edge{from: t, to: target, ref: ref, soft: true})
					}
				}
			case ref.Table == t.Name:
				r.deferSelf(t, ref)
			case byName[ref.Table] != nil:
				edges = append(edges, &edge{from: t, to: byName[ref.Table], ref: ref})
			}
		}
	}
	return edges
}

func (r *resolver) deferSelf(t *Table, ref *Reference) {
	if why := undeferrable(t, ref); why != "" {
		r.problems.add(t.Name, ref.Column, "references its own table but %s, so rows cannot be inserted before the rows they point at", why)
		return
	}
	ref.Deferred = true
}

// undeferrable says why a reference cannot be filled in a second pass.
func undeferrable(t *Table, ref *Reference) string {
	switch {
	case !ref.Nullable:
		return "is NOT NULL"
	case ref.Column == t.Owner:
		return "is the owner column"
	case slices.Contains(t.Key, ref.Column):
		return "is part of the primary key"
	}
	return ""
}

// readyTables are the remaining tables whose targets are all placed.
func readyTables(remaining []*Table, edges []*edge, withSoft bool) []*Table {
	var ready []*Table
	for _, t := range remaining {
		blocked := false
		for _, e := range edges {
			if e.from == t && !e.ref.Deferred && (withSoft || !e.soft) && slices.Contains(remaining, e.to) {
				blocked = true
				break
			}
		}
		if !blocked {
			ready = append(ready, t)
		}
	}
	return ready
}

// deferOne defers one nullable hard reference inside a cycle among the
// remaining tables, choosing deterministically (by table, then column).
func (r *resolver) deferOne(remaining []*Table, edges []*edge) bool {
	var cyclic, stuck []*edge
	for _, e := range edges {
		if e.soft || e.ref.Deferred || !slices.Contains(remaining, e.from) || !slices.Contains(remaining, e.to) {
			continue
		}
		if !reaches(e.to, e.from, remaining, edges) {
			continue
		}
		if undeferrable(e.from, e.ref) == "" {
			cyclic = append(cyclic, e)
		} else {
			stuck = append(stuck, e)
		}
	}
	if len(cyclic) == 0 {
		var names []string
		for _, e := range stuck {
			names = append(names, e.from.Name+"."+e.ref.Column+" -> "+e.to.Name)
		}
		sort.Strings(names)
		r.problems.add("", "", "references form a cycle with no nullable column to fill in a second pass: %s", strings.Join(names, ", "))
		return false
	}
	sort.Slice(cyclic, func(i, j int) bool {
		if cyclic[i].from.Name != cyclic[j].from.Name {
			return cyclic[i].from.Name < cyclic[j].from.Name
		}
		return cyclic[i].ref.Column < cyclic[j].ref.Column
	})
	cyclic[0].ref.Deferred = true
	return true
}

// reaches reports whether from leads to to through live hard edges.
func reaches(from, to *Table, remaining []*Table, edges []*edge) bool {
	seen := map[*Table]bool{from: true}
	stack := []*Table{from}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if cur == to {
			return true
		}
		for _, e := range edges {
			if e.from == cur && !e.soft && !e.ref.Deferred && !seen[e.to] && slices.Contains(remaining, e.to) {
				seen[e.to] = true
				stack = append(stack, e.to)
			}
		}
	}
	return false
}
