// Package progress shows rows done, rate and ETA of long work on a terminal,
// and nothing at all elsewhere, so that cron mail stays quiet.
package progress

import (
	"fmt"
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
	mu    sync.Mutex
	w     io.Writer
	bar   *progressbar.ProgressBar
	phase phase
}

func (b *bar) Begin(what string, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finish()
	b.phase = phase{what: what, total: total}
	// Rate and ETA are ours (see rateMeter), in the description: the
	// bar's own divide the first report's rows by the instant since the
	// bar was made.
	b.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
}

func (b *bar) Add(rows int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil {
		return
	}
	now := time.Now()
	b.phase.add(now, rows)
	b.bar.Describe(b.phase.label(now))
	_ = b.bar.Add64(rows)
}

// phase is what one phase of work has done so far, and how fast.
type phase struct {
	what  string
	total int64 // -1 when unknown
	done  int64
	rate  rateMeter
}

func (p *phase) add(now time.Time, rows int64) {
	p.done += rows
	p.rate.add(now, rows)
}

// label is the phase's name, with rows per second and, when the total is
// known, the time left, once they can be told at now.
func (p *phase) label(now time.Time) string {
	perSec, ok := p.rate.perSecond(now)
	if !ok {
		return p.what
	}
	label := fmt.Sprintf("%s  %.0f rows/s", p.what, perSec)
	if p.total > 0 && p.done < p.total {
		left := time.Duration(float64(p.total-p.done) / perSec * float64(time.Second))
		label += "  ETA " + left.Round(time.Second).String()
	}
	return label
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

// rateMeter measures a phase's rows per second from its first report on.
// The rows of that first report were done before anyone started timing
// (a batch is reported when it is complete), so they are not counted; and
// no rate is told before a second has passed, when a single batch would
// still swing it by orders of magnitude.
type rateMeter struct {
	started bool
	since   time.Time
	rows    int64 // reported after the first report
}

func (m *rateMeter) add(now time.Time, rows int64) {
	if !m.started {
		m.started, m.since = true, now
		return
	}
	m.rows += rows
}

func (m *rateMeter) perSecond(now time.Time) (float64, bool) {
	elapsed := now.Sub(m.since)
	if !m.started || elapsed < time.Second || m.rows <= 0 {
		return 0, false
	}
	return float64(m.rows) / elapsed.Seconds(), true
}
