package export

import (
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPlanWindow(t *testing.T) {
	prev := &State{Prefix: "nyc", Stream: "s", Sequence: 4, Until: "2024-05-01T12:00:00Z"}
	tests := []struct {
		name      string
		clk       clock
		prev      *State
		full      bool
		lag, over time.Duration
		want      window
		wantWarn  string
	}{
		{
			name: "no state: full, until is now minus lag in whole seconds",
			clk:  clock{now: at("2024-05-01T12:15:07.9Z")}, lag: 5 * time.Second,
			want: window{full: true, until: at("2024-05-01T12:15:02Z")},
		},
		{
			name: "incremental from the previous until",
			clk:  clock{now: at("2024-05-01T12:15:07.9Z")}, prev: prev, lag: 5 * time.Second,
			want: window{since: at("2024-05-01T12:00:00Z"), until: at("2024-05-01T12:15:02Z")},
		},
		{
			name: "overlap re-reads before since",
			clk:  clock{now: at("2024-05-01T12:15:07Z")}, prev: prev, over: time.Minute,
			want: window{since: at("2024-05-01T11:59:00Z"), until: at("2024-05-01T12:15:07Z")},
		},
		{
			// The oldest open transaction caps until, also to a fraction.
			name: "open transaction holds the window back",
			clk:  clock{now: at("2024-05-01T12:15:07Z"), oldest: at("2024-05-01T12:10:00.5Z")}, prev: prev, lag: 5 * time.Second,
			want: window{since: at("2024-05-01T12:00:00Z"), until: at("2024-05-01T12:10:00Z")},
		},
		{
			name: "transaction younger than the lag changes nothing",
			clk:  clock{now: at("2024-05-01T12:15:07Z"), oldest: at("2024-05-01T12:15:06Z")}, prev: prev, lag: 5 * time.Second,
			want: window{since: at("2024-05-01T12:00:00Z"), until: at("2024-05-01T12:15:02Z")},
		},
		{
			name: "never before the previous until",
			clk:  clock{now: at("2024-05-01T11:00:00Z")}, prev: prev,
			want:     window{since: at("2024-05-01T12:00:00Z"), until: at("2024-05-01T12:00:00Z")},
			wantWarn: "before the previous one",
		},
		{
			name: "--full with a state keeps the stream but takes everything",
			clk:  clock{now: at("2024-05-01T12:15:07Z")}, prev: prev, full: true,
			want: window{full: true, until: at("2024-05-01T12:15:07Z")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings := planWindow(tt.clk, tt.prev, tt.full, tt.lag, tt.over)
			if got != tt.want {
				t.Errorf("window = %+v, want %+v", got, tt.want)
			}
			joined := strings.Join(warnings, "\n")
			if (tt.wantWarn == "") != (joined == "") || !strings.Contains(joined, tt.wantWarn) {
				t.Errorf("warnings = %q, want %q", joined, tt.wantWarn)
			}
		})
	}
}

// America/New_York falls back at 2024-11-03 06:00Z (02:00 EDT becomes
// 01:00 EST), so 01:00-02:00 local happens twice.
func TestWidenAcrossDST(t *testing.T) {
	tests := []struct {
		name           string
		since, until   string
		loLoc, hiLoc   string // the server's CONVERT_TZ of the bounds
		wantLo, wantHi string
	}{
		{
			name:  "no change in the window: exact bounds",
			since: "2024-11-03T04:00:00Z", until: "2024-11-03T04:15:00Z",
			loLoc: "2024-11-03 00:00:00", hiLoc: "2024-11-03 00:15:00",
			wantLo: "'2024-11-03 00:00:00'", wantHi: "'2024-11-03 00:15:00'",
		},
		{
			// Local end (01:00 EST) is before local start (01:45 EDT): the
			// naive window is empty and a row stamped 01:50 EDT would be lost.
			name:  "fall back inside the window",
			since: "2024-11-03T05:45:00Z", until: "2024-11-03T06:00:00Z",
			loLoc: "2024-11-03 01:45:00", hiLoc: "2024-11-03 01:00:00",
			wantLo: "'2024-11-03 00:45:00'", wantHi: "'2024-11-03 02:00:00'",
		},
		{
			name:  "spring forward inside the window",
			since: "2024-03-10T06:50:00Z", until: "2024-03-10T07:05:00Z",
			loLoc: "2024-03-10 01:50:00", hiLoc: "2024-03-10 03:05:00",
			wantLo: "'2024-03-10 01:50:00'", wantHi: "'2024-03-10 03:05:00'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := widen(window{since: at(tt.since), until: at(tt.until)}, tt.loLoc, tt.hiLoc)
			if err != nil {
				t.Fatal(err)
			}
			if got.lo != tt.wantLo || got.hi != tt.wantHi {
				t.Errorf("bounds = [%s, %s), want [%s, %s)", got.lo, got.hi, tt.wantLo, tt.wantHi)
			}
		})
	}
}
