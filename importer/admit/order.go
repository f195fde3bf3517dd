package importer

import (
	"time"

	"tributary/mapping"
	"tributary/syncfile"
)

// window is a file's header times, parsed and cut to ledger precision.
type window struct {
	since *time.Time // nil for a full file
	until time.Time
}

func parseWindow(h *syncfile.Header) (window, error) {
	var w window
	until, err := time.Parse(time.RFC3339Nano, h.Until)
	if err != nil {
		return w, rejectf(ErrBadRecord, "until %q is not an RFC 3339 time", h.Until)
	}
	w.until = mapping.LedgerTime(until)
	if h.Mode == syncfile.ModeIncremental {
		since, err := time.Parse(time.RFC3339Nano, h.Since)
		if err != nil {
			return w, rejectf(ErrBadRecord, "since %q is not an RFC 3339 time", h.Since)
		}
		s := mapping.LedgerTime(since)
		w.since = &s
	}
	return w, nil
}

// ledgerView is what the ledger says about a file's prefix and stream.
type ledgerView struct {
	last       *mapping.LedgerEntry // the prefix's latest applied file
	streamSeen bool                 // some file of the file's stream was applied
	// streamOrigin is the child database the stream's files came from,
	// when the ledger recorded it.
	streamOrigin *syncfile.Origin
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999Z") }

// checkOrder decides whether a file that was never applied may be applied
// now (DESIGN.md section 5, step 2). It returns a rejection cause that says
// what is wrong and what repairs it.
func checkOrder(h *syncfile.Header, w window, v ledgerView) error {
	last := v.last
	if o := v.streamOrigin; o != nil && o.Differs(h.Source.Origin()) {
		return rejectf(ErrSource, "this file of stream %s was read from %s, but the stream's earlier files came from %s: the child's export reached another database (a mistyped --dsn or option file, a failover, a restored copy). Check the child's connection; if it really moved, run `tributary export --new-stream` there",
			h.Stream, h.Source.Origin(), *o)
	}
	if h.Mode == syncfile.ModeFull {
		if last != nil && !newer(h, w, last) {
			return rejectf(ErrStale, "this full file ends at %s, but the master already holds prefix %s up to %s (stream %s sequence %d); applying it would roll the master back. Use a newer full export",
				stamp(w.until), h.Prefix, stamp(last.Until), last.Stream, last.Sequence)
		}
		return nil
	}
	switch {
	case last == nil:
		return rejectf(ErrGap, "no file of prefix %s was applied yet, and an incremental file needs its predecessors: run `tributary export --full` on the child and import that file", h.Prefix)
	case last.Stream != h.Stream && v.streamSeen:
		return rejectf(ErrStale, "stream %s was replaced by a newer full export (stream %s, sequence %d, applied %s); this incremental file of the old stream can no longer apply. Nothing to do: the newer files cover it",
			h.Stream, last.Stream, last.Sequence, stamp(last.Applied))
	case last.Stream != h.Stream:
		return rejectf(ErrGap, "no file of stream %s was applied (the master follows stream %s): its first, full file is missing. Import it, or run `tributary export --full` on the child",
			h.Stream, last.Stream)
	case !newer(h, w, last):
		return rejectf(ErrStale, "sequence %d ends at %s, but the master already applied sequence %d up to %s; applying it would roll the master back",
			h.Sequence, stamp(w.until), last.Sequence, stamp(last.Until))
	case h.Sequence > last.Sequence+1:
		return rejectf(ErrGap, "the master last applied sequence %d of prefix %s (up to %s); sequences %d to %d (window [%s, %s)) are missing. Import them, or run `tributary export --full` on the child to repair",
			last.Sequence, h.Prefix, stamp(last.Until), last.Sequence+1, h.Sequence-1, stamp(last.Until), stamp(*w.since))
	case w.since.After(last.Until):
		return rejectf(ErrGap, "the master holds prefix %s up to %s but this file starts at %s, so the window [%s, %s) is missing. Run `tributary export --full` on the child to repair",
			h.Prefix, stamp(last.Until), stamp(*w.since), stamp(last.Until), stamp(*w.since))
	}
	return nil
}

// newer reports whether the file comes after the last applied one: its
// window ends later, or at the same moment (export never lets a window end
// before the previous one, so a quiet second gives an empty window with an
// equal end) with a higher sequence of the same stream.
func newer(h *syncfile.Header, w window, last *mapping.LedgerEntry) bool {
	if w.until.After(last.Until) {
		return h.Stream != last.Stream || h.Sequence > last.Sequence
	}
	return w.until.Equal(last.Until) && h.Stream == last.Stream && h.Sequence > last.Sequence
}

// checkReplay decides about a file whose (prefix, stream, sequence) the
// ledger already has: the same checksum means "already applied"; another
// checksum is a different file under the same name and is rejected.
func checkReplay(h *syncfile.Header, sha string, found *mapping.LedgerEntry) (applied bool, err error) {
	if found.SHA256 == sha {
		return true, nil
	}
	return false, rejectf(ErrConflict, "prefix %s stream %s sequence %d was applied on %s with checksum %s, but this file's checksum is %s: two different files claim the same sequence. Run `tributary export --full` on the child",
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
		return rejectf(ErrBadRecord, "stream ID must be 1 to 64 characters")
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c > '~' {
			return rejectf(ErrBadRecord, "stream ID holds a character other than printable ASCII")
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
		return rejectf(ErrBadRecord, "the file name says prefix %s sequence %d (%s) but the header says prefix %s sequence %d (%s)",
			info.Prefix, info.Sequence, info.Mode, h.Prefix, h.Sequence, h.Mode)
	}
	return nil
}
