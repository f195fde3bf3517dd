package importer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tributary/mapping"
	"tributary/syncfile"
)

// PruneResult is what PruneDone did in an inbox's done/ directory.
type PruneResult struct {
	// Removed are the files removed.
	Removed []string
	// Kept are old files that stay because the ledger does not show them
	// as applied (or they cannot be read), each with the reason. After the
	// master was restored from a backup these are the files to apply again.
	Kept []KeptFile
}

// KeptFile is an old file of done/ that PruneDone did not remove.
type KeptFile struct {
	Path   string
	Reason string
}

// PruneDone removes from inbox/done the sync files that are older than
// keep and that the master's ledger shows as applied more than keep ago:
// the same prefix, stream and sequence with the same checksum. A file the
// ledger does not show, a file that cannot be read through to a valid
// trailer, and anything that is not a sync file stay. now is the clock the
// ages are measured from (the file's modification time, the ledger's
// applied time).
func PruneDone(ctx context.Context, db mapping.Querier, inbox string, keep time.Duration, now time.Time) (PruneResult, error) {
	var res PruneResult
	dir := filepath.Join(inbox, DoneDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("--keep-done: %w", err)
	}
	cutoff := now.Add(-keep)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			continue // young, or gone meanwhile
		}
		path := filepath.Join(dir, name)
		applied, reason, err := appliedBefore(ctx, db, path, cutoff)
		switch {
		case err != nil:
			return res, fmt.Errorf("--keep-done: %s: %w", name, err)
		case reason != "":
			res.Kept = append(res.Kept, KeptFile{Path: path, Reason: reason})
		case applied:
			if err := os.Remove(path); err != nil {
				return res, fmt.Errorf("--keep-done: %w", err)
			}
			res.Removed = append(res.Removed, path)
		}
	}
	return res, nil
}

// appliedBefore tells whether the ledger shows the file as applied before
// cutoff. A reason is given for a file that must be kept whatever its
// age; err only for a failure to read the ledger.
func appliedBefore(ctx context.Context, db mapping.Querier, path string, cutoff time.Time) (applied bool, reason string, err error) {
	r, err := syncfile.Open(path, syncfile.ReaderOptions{})
	if err != nil {
		return false, "it cannot be read as a sync file: " + err.Error(), nil
	}
	defer r.Close()
	h := r.Header()
	entry, err := mapping.LedgerFind(ctx, db, h.Prefix, h.Stream, h.Sequence)
	if err != nil {
		return false, "", err
	}
	if entry == nil {
		return false, fmt.Sprintf("the ledger shows no sequence %d of prefix %s stream %s applied", h.Sequence, h.Prefix, h.Stream), nil
	}
	if entry.Applied.After(cutoff) {
		return false, "", nil
	}
	sum, _, err := drain(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			return false, "", ctx.Err()
		}
		return false, "it is damaged: " + err.Error(), nil
	}
	if sum != entry.SHA256 {
		return false, fmt.Sprintf("the ledger's sequence %d of prefix %s has other content (checksum %s, the file's %s)", h.Sequence, h.Prefix, short(entry.SHA256), short(sum)), nil
	}
	return true, "", nil
}

// short is a checksum's first 12 digits, for messages.
func short(sha string) string { return sha[:min(len(sha), 12)] }
