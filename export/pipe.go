package export

import (
	"sync"

	"tributary/syncfile"
)

// pipeBatchBytes is how many encoded bytes travel to the writer at once;
// pipeDepth batches may wait, so the pipe holds at most about 1 MiB.
const (
	pipeBatchBytes = 256 << 10
	pipeDepth      = 4
)

// pipe hands encoded records to a goroutine that writes them, so that
// reading and encoding rows runs alongside checksumming and compressing
// them (each takes about half of a full export's time). Records keep their
// order. After an error the writer drops what follows and add reports it.
type pipe struct {
	w     *syncfile.Writer
	full  chan *lineBatch
	free  chan *lineBatch
	cur   *lineBatch
	done  sync.WaitGroup
	mu    sync.Mutex
	err   error
	close sync.Once
}

// lineBatch is a run of records: buf holds them back to back, ends[i] is
// where record i ends.
type lineBatch struct {
	buf  []byte
	ends []int
}

func newPipe(w *syncfile.Writer) *pipe {
	p := &pipe{w: w, full: make(chan *lineBatch, pipeDepth), free: make(chan *lineBatch, pipeDepth+1)}
	for range pipeDepth + 1 {
		p.free <- &lineBatch{buf: make([]byte, 0, pipeBatchBytes+64<<10)}
	}
	p.cur = <-p.free
	p.done.Add(1)
	go p.run()
	return p
}

func (p *pipe) run() {
	defer p.done.Done()
	for b := range p.full {
		if p.failed() == nil {
			p.write(b)
		}
		b.buf, b.ends = b.buf[:0], b.ends[:0]
		p.free <- b
	}
}

func (p *pipe) write(b *lineBatch) {
	start := 0
	for _, end := range b.ends {
		if err := p.w.WriteRecord(b.buf[start:end]); err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
			return
		}
		start = end
	}
}

func (p *pipe) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// add queues one record; line is copied, so the caller may reuse it.
func (p *pipe) add(line []byte) error {
	p.cur.buf = append(p.cur.buf, line...)
	p.cur.ends = append(p.cur.ends, len(p.cur.buf))
	if len(p.cur.buf) < pipeBatchBytes {
		return nil
	}
	p.full <- p.cur
	p.cur = <-p.free
	return p.failed()
}

// finish writes what is queued and stops the writer; it returns the first
// write error. It is safe to call more than once, and must be called
// before the syncfile.Writer is committed or aborted.
func (p *pipe) finish() error {
	p.close.Do(func() {
		if len(p.cur.ends) > 0 {
			p.full <- p.cur
		}
		close(p.full)
		p.done.Wait()
	})
	return p.failed()
}
