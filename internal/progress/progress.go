// Package progress shows rows done, rate and ETA of long work on a terminal,
// and nothing at all elsewhere, so that cron mail stays quiet.
package progress

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Reporter is what domain packages report long work to: a phase with a
// known or unknown (-1) number of rows, rows done, and the phase's end.
type Reporter interface {
	Begin(what string, total int64)
	Add(rows int64)
	End()
}

// Nop reports nothing.
type Nop struct{}

// Begin does nothing.
func (Nop) Begin(string, int64) {}

// Add does nothing.
func (Nop) Add(int64) {}

// End does nothing.
func (Nop) End() {}

// ForTerminal returns a progress bar on w when w is a terminal and Nop
// otherwise.
func ForTerminal(w io.Writer) Reporter {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Nop{}
	}
	return &bar{w: w}
}

type bar struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (b *bar) Begin(what string, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finish()
	b.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
}

func (b *bar) Add(rows int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		_ = b.bar.Add64(rows)
	}
}

func (b *bar) End() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finish()
}

func (b *bar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
		b.bar = nil
	}
}
