package plan

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The set must answer exactly like a plain set of IDs whatever the order
// and repetition of what was added: deletions trust it to say which rows
// a file carries.
func TestIDSetAgreesWithAPlainSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		var s IDSet
		model := map[int64]bool{}
		span := int64(1 + rng.IntN(200))
		for range rng.IntN(300) {
			var id int64
			switch rng.IntN(3) {
			case 0: // runs, as an auto-increment gives them
				id = int64(len(model)) + 1
			default:
				id = rng.Int64N(span) - span/4
			}
			s.Add(id)
			model[id] = true
			if rng.IntN(50) == 0 {
				s.Seal() // adding after a seal must keep working
			}
		}
		for id := -span; id <= 2*span; id++ {
			if s.Has(id) != model[id] {
				t.Fatalf("round %d: has(%d) = %v, want %v (runs %v)", round, id, s.Has(id), model[id], s.runs)
			}
		}
		want := make([]int64, 0, len(model))
		for id := range model {
			want = append(want, id)
		}
		slices.Sort(want)
		if got := s.IDs(); !slices.Equal(got, want) {
			t.Fatalf("round %d: ids() = %v, want %v", round, got, want)
		}
		for i := 1; i < len(s.runs); i++ {
			if s.runs[i][0] <= s.runs[i-1][1]+1 {
				t.Fatalf("round %d: runs %v overlap or touch after sealing", round, s.runs)
			}
		}
	}
}

// A million consecutive IDs, as a full import inserts them, take one run.
func TestIDSetKeepsConsecutiveIDsAsOneRun(t *testing.T) {
	var s IDSet
	for id := int64(1); id <= 1_000_000; id++ {
		s.Add(id)
	}
	if len(s.runs) != 1 || !s.Has(1) || !s.Has(1_000_000) || s.Has(0) || s.Has(1_000_001) {
		t.Fatalf("runs = %v", s.runs)
	}
}

func TestIDSetAtTheEdgesOfInt64(t *testing.T) {
	var s IDSet
	for _, id := range []int64{math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1} {
		s.Add(id)
	}
	for _, id := range []int64{math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1} {
		if !s.Has(id) {
			t.Errorf("has(%d) = false", id)
		}
	}
	if s.Has(0) || len(s.runs) != 2 {
		t.Fatalf("runs = %v", s.runs)
	}
	var nilSet *IDSet
	if nilSet.Has(1) || !nilSet.Empty() || nilSet.IDs() != nil {
		t.Fatal("a nil set must be empty")
	}
}
