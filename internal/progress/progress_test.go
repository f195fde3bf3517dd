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
