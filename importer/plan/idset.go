package plan

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// IDSet is a set of IDs of one table (the master IDs a file carries, the
// child IDs it names), added while the file is applied and looked up
// afterwards. It keeps runs of consecutive IDs rather than each ID: the
// rows a full import inserts get their IDs from one auto-increment, so a
// million of them make a handful of runs instead of 8 MB, and the memory
// of an import stops growing with the size of its file for them.
type IDSet struct {
	runs [][2]int64 // [first, last]; sorted, disjoint and apart once sealed
	// unsealed: an ID below the last run was added since the last seal.
	unsealed bool
}

// Add puts id in the set.
func (s *IDSet) Add(id int64) {
	if n := len(s.runs); n > 0 {
		last := &s.runs[n-1]
		switch {
		case id >= last[0] && id <= last[1]:
			return
		case last[1] < math.MaxInt64 && id == last[1]+1:
			last[1] = id
			return
		case id < last[0]:
			s.unsealed = true
		}
	}
	s.runs = append(s.runs, [2]int64{id, id})
}

// Seal sorts the runs and merges those that overlap or touch.
func (s *IDSet) Seal() {
	if s == nil || !s.unsealed {
		return
	}
	slices.SortFunc(s.runs, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	merged := s.runs[:1]
	for _, r := range s.runs[1:] {
		last := &merged[len(merged)-1]
		if last[1] == math.MaxInt64 || r[0] <= last[1]+1 {
			last[1] = max(last[1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	s.runs = merged
	s.unsealed = false
}

// Has reports whether id is in the set; a nil set is empty.
func (s *IDSet) Has(id int64) bool {
	if s == nil {
		return false
	}
	s.Seal()
	i := sort.Search(len(s.runs), func(i int) bool { return s.runs[i][1] >= id })
	return i < len(s.runs) && s.runs[i][0] <= id
}

// Empty reports whether the set holds no ID.
func (s *IDSet) Empty() bool { return s == nil || len(s.runs) == 0 }

// IDs lists the set in ascending order.
func (s *IDSet) IDs() []int64 {
	if s == nil {
		return nil
	}
	s.Seal()
	var out []int64
	for _, r := range s.runs {
		for id := r[0]; ; id++ {
			out = append(out, id)
			if id == r[1] {
				break
			}
		}
	}
	return out
}

// SetOf returns the set of table in m, made when missing.
func SetOf(m map[string]*IDSet, table string) *IDSet {
	s := m[table]
	if s == nil {
		s = &IDSet{}
		m[table] = s
	}
	return s
}
