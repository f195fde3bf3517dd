package plan

import (
	"context"
	"errors"
	"fmt"
	"io"

	"tributary/importer/reject"
	"tributary/schema"
	"tributary/syncfile"
)

// Item is one record of the file, parsed: an upsert's row, or a track
// table's live ranges.
type Item struct {
	Table  *Table
	Row    *Row       // an upsert
	Live   bool       // a live record
	Ranges [][2]int64 // its ranges
	Line   int64
}

const (
	itemsPerChunk = 256
	chunksAhead   = 8
)

// Records are one file's records, read and parsed on a goroutine of their
// own so that JSON parsing overlaps the master's work, and handed out in
// chunks of items. Nothing a Records hands out comes from bytes that are
// not verified in the same read: the last chunk of a read comes only after
// its trailer (count, checksum, signature) was checked.
type Records struct {
	plan   *Plan
	reread func() (*syncfile.Reader, error)
	feed   *feed
	// kept holds a survey's items for Next; overflow says they did not
	// all fit, so Next reads the file again (second).
	kept     [][]Item
	overflow bool
	surveyed *syncfile.Trailer
	second   *syncfile.Reader
	trailer  syncfile.Trailer
	done     bool
}

// Read starts reading r's records (r's header is read already). reread
// opens the file again from its first byte; it is called only when a
// survey could not keep every item (see Survey).
func Read(r *syncfile.Reader, p *Plan, reread func() (*syncfile.Reader, error)) *Records {
	return &Records{plan: p, reread: reread, feed: startFeed(r, p)}
}

// Next returns the next chunk of items in the file's order, and io.EOF
// once the whole file was read and verified.
func (rs *Records) Next(ctx context.Context) ([]Item, error) {
	if rs.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rs.surveyed != nil {
		return rs.nextSurveyed()
	}
	items, err := rs.feed.next()
	if errors.Is(err, io.EOF) {
		rs.trailer, rs.done = rs.feed.r.Trailer(), true
	}
	return items, err
}

// nextSurveyed hands out a survey's kept items, or, when they did not fit,
// the file's items read a second time, which must be the same bytes.
func (rs *Records) nextSurveyed() ([]Item, error) {
	if !rs.overflow {
		if len(rs.kept) == 0 {
			rs.trailer, rs.done = *rs.surveyed, true
			return nil, io.EOF
		}
		items := rs.kept[0]
		rs.kept = rs.kept[1:]
		return items, nil
	}
	if rs.second == nil {
		r, err := rs.reread()
		if err != nil {
			return nil, err
		}
		rs.second = r
		rs.feed = startFeed(r, rs.plan)
	}
	items, err := rs.feed.next()
	if !errors.Is(err, io.EOF) {
		return items, err
	}
	t := rs.second.Trailer()
	if t.SHA256 != rs.surveyed.SHA256 {
		return nil, fmt.Errorf("the file changed while it was applied: it was read twice (to learn what it deletes, then to apply it) and the two reads differ (checksum %s, then %s); nothing of it is applied, and the next run reads it again",
			short(rs.surveyed.SHA256), short(t.SHA256))
	}
	rs.trailer, rs.done = t, true
	return nil, io.EOF
}

func short(sha string) string { return sha[:min(len(sha), 12)] }

// Trailer is the file's verified trailer, once Next returned io.EOF.
func (rs *Records) Trailer() syncfile.Trailer { return rs.trailer }

// Close stops the parsing and waits for it, after which the reader given
// to Read may be closed. A reader Records opened itself it closes.
func (rs *Records) Close() {
	rs.feed.stop()
	if rs.second != nil {
		rs.second.Close()
	}
}

// Contents is what a file carries, by child IDs: known only once the file
// was read to its verified end. The steps that must know it before the
// first upsert (deletions first) get it from Survey.
type Contents struct {
	IDs  map[string]*IDSet          // mapped tables: child IDs
	Keys map[string]map[string]bool // composite tables: encoded child keys
	Live map[string][][2]int64      // track tables with a live record: the live ranges
	// Refs holds, per mapped table, the child IDs the file's rows
	// reference (when the survey was asked for them); RefsUnknown says a
	// reference could not be read (the first pass will report it).
	Refs        map[string]map[int64]bool
	RefsUnknown bool
}

// Survey reads the whole file before anything is applied, verifying it,
// and returns what it carries. It must come before the first Next. The
// parsed items are kept for Next while they fit in keepBytes (an
// incremental file's usually do); a larger file is read a second time by
// Next, which then demands the same checksum as the survey's read, so
// that what the survey learned is about the very bytes applied. With refs,
// the child IDs every row references are gathered too.
func (rs *Records) Survey(ctx context.Context, keepBytes int, refs bool) (*Contents, error) {
	c := &Contents{IDs: map[string]*IDSet{}, Keys: map[string]map[string]bool{}, Live: map[string][][2]int64{}, Refs: map[string]map[int64]bool{}}
	size := 0
	for {
		items, err := rs.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for i := range items {
			it := &items[i]
			c.add(it)
			if refs && !it.Live {
				c.addRefs(rs.plan, it)
			}
			size += it.size()
		}
		if size > keepBytes {
			rs.overflow, rs.kept = true, nil
		}
		if !rs.overflow {
			rs.kept = append(rs.kept, items)
		}
	}
	for _, s := range c.IDs {
		s.Seal()
	}
	t := rs.trailer
	rs.surveyed, rs.done = &t, false
	return c, nil
}

func (it *Item) size() int {
	if it.Live {
		return 64 + 16*len(it.Ranges)
	}
	return 64 + it.Row.Size
}

func (c *Contents) add(it *Item) {
	name := it.Table.Table.Name
	switch {
	case it.Live:
		c.Live[name] = append(c.liveOf(name), it.Ranges...)
	case it.Table.Table.Mapped:
		SetOf(c.IDs, name).Add(it.Row.ID)
	default:
		if c.Keys[name] == nil {
			c.Keys[name] = map[string]bool{}
		}
		c.Keys[name][EncodeKey(it.Table.KeyValues(it.Row))] = true
	}
}

// liveOf returns a table's ranges so far, never nil once a live record
// was seen (an empty set of ranges means every row was deleted).
func (c *Contents) liveOf(table string) [][2]int64 {
	if rs, ok := c.Live[table]; ok {
		return rs
	}
	return [][2]int64{}
}

// addRefs adds the child IDs a row references.
func (c *Contents) addRefs(p *Plan, it *Item) {
	for i := range it.Table.Cols {
		target, child, ok, err := p.RefTarget(it.Table, it.Row, i)
		if err != nil {
			c.RefsUnknown = true
			continue
		}
		if !ok || target == "" {
			continue
		}
		m := c.Refs[target]
		if m == nil {
			m = map[int64]bool{}
			c.Refs[target] = m
		}
		m[child] = true
	}
}

// Carries reports whether the file carries the child row with this child
// key (a mapped table's child ID, a composite table's child key).
func (c *Contents) Carries(t *schema.Table, childKey []any) bool {
	if t.Mapped {
		id, _ := childKey[0].(int64)
		return c.IDs[t.Name].Has(id)
	}
	return c.Keys[t.Name][EncodeKey(childKey)]
}

// feed is one read of the file, parsed on its own goroutine.
type feed struct {
	r      *syncfile.Reader
	chunks chan chunk
	done   chan struct{}
	closed bool
}

// chunk is what the parser hands on: a few hundred items, or the error
// that ended the read (io.EOF once the trailer is verified).
type chunk struct {
	items []Item
	err   error
}

func startFeed(r *syncfile.Reader, p *Plan) *feed {
	f := &feed{r: r, chunks: make(chan chunk, chunksAhead), done: make(chan struct{})}
	go f.parse(p)
	return f
}

func (f *feed) next() ([]Item, error) {
	c, ok := <-f.chunks
	if !ok {
		return nil, io.ErrUnexpectedEOF
	}
	if c.err != nil {
		return c.items, c.err
	}
	return c.items, nil
}

// stop ends the parser and waits until it no longer reads.
func (f *feed) stop() {
	if f.closed {
		return
	}
	f.closed = true
	close(f.done)
	for range f.chunks { // let the parser finish before its reader is closed
	}
}

// parse reads and converts the records, sending them in chunks, until the
// file ends or stop is called. The last chunk carries the error (io.EOF
// when the whole file was read and verified).
func (f *feed) parse(p *Plan) {
	defer close(f.chunks)
	items := make([]Item, 0, itemsPerChunk)
	send := func(c chunk) bool {
		select {
		case f.chunks <- c:
			return true
		case <-f.done:
			return false
		}
	}
	for {
		it, err := parseOne(f.r, p)
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
			items = make([]Item, 0, itemsPerChunk)
		}
	}
}

// parseOne reads one record and copies what it needs out of the reader's
// buffer (valid only until the next read).
func parseOne(r *syncfile.Reader, p *Plan) (Item, error) {
	rec, err := r.Next()
	if err != nil {
		return Item{}, err
	}
	tp := p.Tables[rec.Table] // the reader accepts only tables of the header
	if rec.Op == syncfile.OpLive {
		if tp.Table.Role != schema.RoleTrack {
			return Item{}, reject.Errorf(reject.ErrBadRecord, "line %d: live ranges for %s, which is not a track table", rec.Line, tp.Table.Name)
		}
		return Item{Table: tp, Live: true, Line: rec.Line, Ranges: append([][2]int64(nil), rec.Ranges...)}, nil
	}
	row, err := tp.ParseRow(rec)
	if err != nil {
		return Item{}, err
	}
	return Item{Table: tp, Row: row, Line: rec.Line}, nil
}
