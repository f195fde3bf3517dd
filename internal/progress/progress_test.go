package progress

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// A pipe or a file is not a terminal: cron mail must get nothing.
func TestSilentOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	if _, ok := ForTerminal(&buf).(Nop); !ok {
		t.Error("a buffer got a progress bar")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := ForTerminal(f)
	r.Begin("civicrm_contact", 10)
	r.Add(10)
	r.End()
	info, _ := f.Stat()
	if info.Size() != 0 {
		t.Errorf("wrote %d bytes to a non-terminal", info.Size())
	}
}

func TestBarWrites(t *testing.T) {
	var buf bytes.Buffer
	b := &bar{w: &buf}
	b.Begin("civicrm_contact", 100)
	time.Sleep(250 * time.Millisecond) // past the throttle, so Add draws
	b.Add(50)
	b.End()
	if !bytes.Contains(buf.Bytes(), []byte("civicrm_contact")) {
		t.Errorf("bar output lacks the phase name: %q", buf.String())
	}
}

// TestRateFromFirstReport: a phase's first report holds rows done before
// it was timed, so no rate is told until a second of later reports; then
// the rate is rows per second since the first report, with an ETA when
// the total is known. (Told from the first report, 1000 rows a few
// microseconds after Begin read as hundreds of millions of rows/s.)
func TestRateFromFirstReport(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := phase{what: "civicrm_contact", total: 10000}
	steps := []struct {
		after time.Duration
		rows  int64
		want  string
	}{
		{0, 1000, "civicrm_contact"},                                            // the first batch: no rate
		{500 * time.Millisecond, 1000, "civicrm_contact"},                       // under a second: none yet
		{1500 * time.Millisecond, 2000, "civicrm_contact  1500 rows/s  ETA 4s"}, // 3000 rows in 2 s; 6000 left
	}
	for _, s := range steps {
		clock = clock.Add(s.after)
		p.add(clock, s.rows)
		if got := p.label(clock); got != s.want {
			t.Errorf("after %d rows: label %q, want %q", p.done, got, s.want)
		}
	}
}
