// Package admit decides whether a sync file may be applied now, from what
// the file says of itself and what the master's ledger says of its prefix
// (DESIGN.md section 5, step 2): the next file of its stream, a full file
// that starts a stream, a file applied before (skip it), or a file that is
// stale, leaves a gap, conflicts with one applied, or comes from another
// database (refuse it, saying what repairs it). It reads the ledger and
// writes nothing.
package admit

import (
	"time"

	"tributary/childdb"
	"tributary/importer/reject"
	"tributary/mapping"
	"tributary/syncfile"
)

// Window is a file's header times, parsed and cut to ledger precision.
type Window struct {
	Since *time.Time // nil for a full file
	Until time.Time
}

// ParseWindow reads the header's window.
func ParseWindow(h *syncfile.Header) (Window, error) {
	var w Window
	until, err := time.Parse(time.RFC3339Nano, h.Until)
	if err != nil {
		return w, reject.Errorf(reject.ErrBadRecord, "until %q is not an RFC 3339 time", h.Until)
	}
	w.Until = mapping.LedgerTime(until)
	if h.Mode == syncfile.ModeIncremental {
		since, err := time.Parse(time.RFC3339Nano, h.Since)
		if err != nil {
			return w, reject.Errorf(reject.ErrBadRecord, "since %q is not an RFC 3339 time", h.Since)
		}
		s := mapping.LedgerTime(since)
		w.Since = &s
	}
	return w, nil
}

// LedgerView is what the ledger says about a file's prefix and stream.
type LedgerView struct {
	Last       *mapping.LedgerEntry // the prefix's latest applied file
	StreamSeen bool                 // some file of the file's stream was applied
	// StreamOrigin is the child database the stream's files came from,
	// when the ledger recorded it.
	StreamOrigin *childdb.Origin
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999Z") }

// CheckOrder decides whether a file that was never applied may be applied
// now (DESIGN.md section 5, step 2). It returns a rejection cause that says
// what is wrong and what repairs it.
func CheckOrder(h *syncfile.Header, w Window, v LedgerView) error {
	last := v.Last
	if o := v.StreamOrigin; o != nil && o.Differs(h.Source.Origin()) {
		return reject.Errorf(reject.ErrSource, "this file of stream %s was read from %s, but the stream's earlier files came from %s: the child's export reached another database (a mistyped --dsn or option file, a failover, a restored copy). Check the child's connection; if it really moved, run `tributary export --new-stream` there",
			h.Stream, h.Source.Origin(), *o)
	}
	if h.Mode == syncfile.ModeFull {
		if last != nil && !newer(h, w, last) {
			return reject.Errorf(reject.ErrStale, "this full file ends at %s, but the master already holds prefix %s up to %s (stream %s sequence %d); applying it would roll the master back. Use a newer full export",
				stamp(w.Until), h.Prefix, stamp(last.Until), last.Stream, last.Sequence)
		}
		return nil
	}
	switch {
	case last == nil:
		return reject.Errorf(reject.ErrGap, "no file of prefix %s was applied yet, and an incremental file needs its predecessors: run `tributary export --full` on the child and import that file", h.Prefix)
	case last.Stream != h.Stream && v.StreamSeen:
		return reject.Errorf(reject.ErrStale, "stream %s was replaced by a newer full export (stream %s, sequence %d, applied %s); this incremental file of the old stream can no longer apply. Nothing to do: the newer files cover it",
			h.Stream, last.Stream, last.Sequence, stamp(last.Applied))
	case last.Stream != h.Stream:
		return reject.Errorf(reject.ErrGap, "no file of stream %s was applied (the master follows stream %s): its first, full file is missing. Import it, or run `tributary export --full` on the child",
			h.Stream, last.Stream)
	case !newer(h, w, last):
		return reject.Errorf(reject.ErrStale, "sequence %d ends at %s, but the master already applied sequence %d up to %s; applying it would roll the master back",
			h.Sequence, stamp(w.Until), last.Sequence, stamp(last.Until))
	case h.Sequence > last.Sequence+1:
		return reject.Errorf(reject.ErrGap, "the master last applied sequence %d of prefix %s (up to %s); sequences %d to %d (window [%s, %s)) are missing. Import them, or run `tributary export --full` on the child to repair",
			last.Sequence, h.Prefix, stamp(last.Until), last.Sequence+1, h.Sequence-1, stamp(last.Until), stamp(*w.Since))
	case w.Since.After(last.Until):
		return reject.Errorf(reject.ErrGap, "the master holds prefix %s up to %s but this file starts at %s, so the window [%s, %s) is missing. Run `tributary export --full` on the child to repair",
			h.Prefix, stamp(last.Until), stamp(*w.Since), stamp(last.Until), stamp(*w.Since))
	}
	return nil
}

// newer reports whether the file comes after the last applied one: its
// window ends later, or at the same moment (export never lets a window end
// before the previous one, so a quiet second gives an empty window with an
// equal end) with a higher sequence of the same stream.
func newer(h *syncfile.Header, w Window, last *mapping.LedgerEntry) bool {
	if w.Until.After(last.Until) {
		return h.Stream != last.Stream || h.Sequence > last.Sequence
	}
	return w.Until.Equal(last.Until) && h.Stream == last.Stream && h.Sequence > last.Sequence
}

// CheckReplay decides about a file whose (prefix, stream, sequence) the
// ledger already has: the same checksum means "already applied"; another
// checksum is a different file under the same name and is rejected.
func CheckReplay(h *syncfile.Header, sha string, found *mapping.LedgerEntry) (applied bool, err error) {
	if found.SHA256 == sha {
		return true, nil
	}
	return false, reject.Errorf(reject.ErrConflict, "prefix %s stream %s sequence %d was applied on %s with checksum %s, but this file's checksum is %s: two different files claim the same sequence. Run `tributary export --full` on the child",
		h.Prefix, h.Stream, h.Sequence, stamp(found.Applied), short(found.SHA256), short(sha))
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// validStream accepts the stream IDs export writes: 1 to 64 printable
// ASCII characters without spaces.
func validStream(s string) error {
	if len(s) == 0 || len(s) > 64 {
		return reject.Errorf(reject.ErrBadRecord, "stream ID must be 1 to 64 characters")
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c > '~' {
			return reject.Errorf(reject.ErrBadRecord, "stream ID holds a character other than printable ASCII")
		}
	}
	return nil
}

// checkName rejects a file whose contract name disagrees with its header
// (a renamed or mixed-up file). Names that are not contract names pass.
func checkName(base string, h *syncfile.Header) error {
	info, ok := syncfile.ParseFileName(base)
	if !ok {
		return nil
	}
	if info.Prefix != h.Prefix || info.Sequence != h.Sequence || info.Mode != h.Mode {
		return reject.Errorf(reject.ErrBadRecord, "the file name says prefix %s sequence %d (%s) but the header says prefix %s sequence %d (%s)",
			info.Prefix, info.Sequence, info.Mode, h.Prefix, h.Sequence, h.Mode)
	}
	return nil
}
