package reconcile

import (
	"math"
	"reflect"
	"testing"
)

func TestGaps(t *testing.T) {
	const lo, hi = math.MinInt64, math.MaxInt64
	tests := []struct {
		name   string
		ranges [][2]int64
		want   [][2]int64
	}{
		{"no live row: everything is a gap", nil, [][2]int64{{lo, hi}}},
		{"one range", [][2]int64{{5, 9}}, [][2]int64{{lo, 4}, {10, hi}}},
		{"unsorted, touching and overlapping", [][2]int64{{20, 30}, {1, 10}, {11, 12}, {25, 40}}, [][2]int64{{lo, 0}, {13, 19}, {41, hi}}},
		{"up to the largest ID", [][2]int64{{1, hi}}, [][2]int64{{lo, 0}}},
		{"from the smallest ID", [][2]int64{{lo, 3}}, [][2]int64{{4, hi}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gaps(tt.ranges); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("gaps(%v) = %v, want %v", tt.ranges, got, tt.want)
			}
		})
	}
}
