package reconcile

import (
	"testing"

	"tributary/internal/exitcode"
)

func TestDeleteLimit(t *testing.T) {
	for _, tt := range []struct {
		in        string
		want      float64
		wantError bool
	}{
		{"10%", 10, false}, {"10", 10, false}, {" 2.5% ", 2.5, false}, {"0%", 0, false}, {"100%", 100, false},
		{"", 0, true}, {"101%", 0, true}, {"-1%", 0, true}, {"ten", 0, true}, {"10%%", 0, true},
	} {
		l, err := ParseDeleteLimit(tt.in)
		if (err != nil) != tt.wantError || (err == nil && l.Percent() != tt.want) {
			t.Errorf("ParseDeleteLimit(%q) = %v, %v", tt.in, l.Percent(), err)
		}
		if err != nil && exitcode.Code(err) != exitcode.Usage {
			t.Errorf("ParseDeleteLimit(%q): exit %d, want 2", tt.in, exitcode.Code(err))
		}
	}
	var zero DeleteLimit
	if zero.Percent() != DefaultMaxDelete {
		t.Errorf("the zero limit is %v%%, want the default %d%%", zero.Percent(), DefaultMaxDelete)
	}
	ten, _ := ParseDeleteLimit("10%")
	none, _ := ParseDeleteLimit("0%")
	all, _ := ParseDeleteLimit("100%")
	for _, tt := range []struct {
		l         DeleteLimit
		n, held   int64
		wantAllow bool
	}{
		{ten, 100, 100, true},      // never refused at 100 rows or fewer
		{none, 100, 100000, true},  // not even with 0%
		{none, 101, 100000, false}, // 0% refuses anything past the floor
		{ten, 101, 1010, true},     // exactly 10%
		{ten, 102, 1010, false},
		{ten, 5000, 100000, true},
		{all, 1000000, 1000000, true},
	} {
		if got := tt.l.allows(tt.n, tt.held); got != tt.wantAllow {
			t.Errorf("%s allows %d of %d = %v, want %v", tt.l, tt.n, tt.held, got, tt.wantAllow)
		}
	}
}
