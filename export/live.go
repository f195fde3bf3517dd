package export

import (
	"strconv"

	"tributary/syncfile"
)

// maxRangesPerRecord bounds a live record, so that a table whose IDs are
// full of holes still gives lines of a few hundred kilobytes, not one
// line of the table's size.
const maxRangesPerRecord = 10000

// liveRanges collects a track table's live IDs, fed in ascending order, as
// [lo, hi] ranges, and hands out a record whenever enough ranges are
// complete. It holds at most one record's ranges.
type liveRanges struct {
	prefix  []byte // {"t":"<table>","op":"live","ranges":[
	max     int
	ranges  [][2]int64
	open    bool
	records int
	emit    func(line []byte) error
	buf     []byte
}

func newLiveRanges(table string, max int, emit func([]byte) error) *liveRanges {
	prefix := append([]byte(`{"t":`), appendString(nil, table)...)
	prefix = append(prefix, `,"op":"`+syncfile.OpLive+`","ranges":[`...)
	return &liveRanges{prefix: prefix, max: max, emit: emit}
}

// add takes the next live ID; IDs must come in strictly ascending order.
func (l *liveRanges) add(id int64) error {
	if l.open {
		last := &l.ranges[len(l.ranges)-1]
		if id == last[1]+1 {
			last[1] = id
			return nil
		}
	}
	if len(l.ranges) == l.max {
		if err := l.flush(); err != nil {
			return err
		}
	}
	l.ranges = append(l.ranges, [2]int64{id, id})
	l.open = true
	return nil
}

// finish writes what is left. A table with no live row still gets one
// record with no ranges: it tells the master to delete every row.
func (l *liveRanges) finish() error {
	if len(l.ranges) > 0 || l.records == 0 {
		return l.flush()
	}
	return nil
}

func (l *liveRanges) flush() error {
	b := append(l.buf[:0], l.prefix...)
	for i, r := range l.ranges {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, r[0], 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, r[1], 10)
		b = append(b, ']')
	}
	b = append(b, "]}"...)
	l.buf = b
	l.ranges = l.ranges[:0]
	l.open = false
	l.records++
	return l.emit(b)
}
