package importer

import (
	"context"
	"errors"
	"io"

	"tributary/schema"
	"tributary/syncfile"
)

// item is one parsed record: an upsert's row or a live record's ranges.
type item struct {
	tp     *tablePlan
	row    *row
	ranges [][2]int64
	live   bool
	line   int64
}

// chunk is what the parser hands the writer: a few hundred items, or the
// error that ended the file (io.EOF once the trailer is verified).
type chunk struct {
	items []item
	err   error
}

const (
	itemsPerChunk = 256
	chunksAhead   = 8
)

// parse reads and converts the file's records on its own goroutine, so that
// JSON parsing overlaps the database's work, and sends them in chunks. It
// stops when done is closed. The last chunk carries the error (io.EOF when
// the whole file was read and verified).
func (f *fileRun) parse(r *syncfile.Reader, out chan<- chunk, done <-chan struct{}) {
	defer close(out)
	items := make([]item, 0, itemsPerChunk)
	send := func(c chunk) bool {
		select {
		case out <- c:
			return true
		case <-done:
			return false
		}
	}
	for {
		it, err := f.parseOne(r)
		if err != nil {
			if len(items) > 0 && !send(chunk{items: items}) {
				return
			}
			send(chunk{err: err})
			return
		}
		items = append(items, it)
		if len(items) == itemsPerChunk {
			if !send(chunk{items: items}) {
				return
			}
			items = make([]item, 0, itemsPerChunk)
		}
	}
}

// parseOne reads one record and copies what it needs out of the reader's
// buffer (valid only until the next read).
func (f *fileRun) parseOne(r *syncfile.Reader) (item, error) {
	rec, err := r.Next()
	if err != nil {
		return item{}, err
	}
	tp := f.plan.tables[rec.Table] // the reader accepts only tables of the header
	if rec.Op == syncfile.OpLive {
		if tp.t.Role != schema.RoleTrack {
			return item{}, rejectf(ErrBadRecord, "line %d: live ranges for %s, which is not a track table", rec.Line, tp.t.Name)
		}
		return item{tp: tp, live: true, line: rec.Line, ranges: append([][2]int64(nil), rec.Ranges...)}, nil
	}
	row, err := tp.parseRow(rec)
	if err != nil {
		return item{}, err
	}
	return item{tp: tp, row: row, line: rec.Line}, nil
}

// firstPass applies the upserts in the file's order, batched per table,
// and gathers the live ranges. It returns only after the reader verified
// the trailer (count, checksum, signature).
func (f *fileRun) firstPass(ctx context.Context, r *syncfile.Reader) error {
	chunks := make(chan chunk, chunksAhead)
	done := make(chan struct{})
	go f.parse(r, chunks, done)
	defer func() {
		close(done)
		for range chunks { // let the parser finish before the reader is closed
		}
	}()
	var w *tableWriter
	lastOrder := -1 << 62
	for c := range chunks {
		for i := range c.items {
			it := &c.items[i]
			f.records++
			if it.live {
				f.live[it.tp.t.Name] = append(f.liveSet(it.tp.t.Name), it.ranges...)
				continue
			}
			if it.tp.order < lastOrder {
				return rejectf(ErrBadRecord, "line %d: a row of %s after rows of a table the header orders later: records are not in apply order", it.line, it.tp.t.Name)
			}
			lastOrder = it.tp.order
			if w == nil || w.tp != it.tp {
				if err := w.flush(ctx); err != nil {
					return err
				}
				w = f.writer(it.tp)
			}
			if err := w.add(ctx, it.row); err != nil {
				return err
			}
		}
		if c.err != nil {
			if errors.Is(c.err, io.EOF) {
				return w.flush(ctx)
			}
			return c.err
		}
	}
	return ctx.Err()
}

// liveSet returns the table's ranges so far, never nil once a live record
// was seen (an empty set of ranges means every row was deleted).
func (f *fileRun) liveSet(table string) [][2]int64 {
	if rs, ok := f.live[table]; ok {
		return rs
	}
	return [][2]int64{}
}
