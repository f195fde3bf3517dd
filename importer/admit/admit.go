package admit

import (
	"context"
	"path/filepath"

	"tributary/importer/reject"
	"tributary/mapping"
	"tributary/syncfile"
)

// Header checks what a file says of itself: a stream ID export could have
// written, a contract name that agrees with its header, a window that
// parses. It returns the window.
func Header(path string, h *syncfile.Header) (Window, error) {
	if err := validStream(h.Stream); err != nil {
		return Window{}, err
	}
	if err := checkName(filepath.Base(path), h); err != nil {
		return Window{}, err
	}
	return ParseWindow(h)
}

// Fresh checks a file the ledger has never seen against its prefix's
// history (CheckOrder). A full file that starts a new stream from another
// database than the previous stream's is accepted with a warning (the
// guards against a mistyped connection are the stream's own origin and
// --max-delete); warn gets it.
func Fresh(ctx context.Context, q mapping.Querier, h *syncfile.Header, w Window, warn func(format string, args ...any)) error {
	last, err := mapping.LedgerLast(ctx, q, h.Prefix)
	if err != nil {
		return err
	}
	seen, err := mapping.LedgerStreamSeen(ctx, q, h.Prefix, h.Stream)
	if err != nil {
		return err
	}
	v := LedgerView{Last: last, StreamSeen: seen}
	if seen {
		origin, ok, err := mapping.LedgerStreamOrigin(ctx, q, h.Prefix, h.Stream)
		if err != nil {
			return err
		}
		if ok {
			v.StreamOrigin = &origin
		}
	}
	if err := CheckOrder(h, w, v); err != nil {
		return err
	}
	if !seen && last != nil && last.Source.Database != "" && last.Source.Differs(h.Source.Origin()) {
		warn("prefix %s: stream %s starts here with a full file read from %s; the previous stream (%s) came from %s. If that is not the child you expect, stop the imports of %s and check the child's connection",
			h.Prefix, h.Stream, h.Source.Origin(), last.Stream, last.Source, h.Prefix)
	}
	return nil
}

// Rebuild checks that --rebuild may apply again the file the ledger lists
// as found: only the prefix's latest applied file, or the master would be
// rolled back.
func Rebuild(ctx context.Context, q mapping.Querier, h *syncfile.Header, found *mapping.LedgerEntry) error {
	last, err := mapping.LedgerLast(ctx, q, h.Prefix)
	if err != nil {
		return err
	}
	if last.Stream != found.Stream || last.Sequence != found.Sequence {
		return reject.Errorf(reject.ErrStale, "--rebuild from sequence %d: the master has applied newer files since (sequence %d of stream %s); rebuilding from this one would roll it back", h.Sequence, last.Sequence, last.Stream)
	}
	return nil
}
