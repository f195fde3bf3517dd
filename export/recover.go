package export

import (
	"os"
	"path/filepath"
	"strings"

	"tributary/syncfile"
)

// removeStaleTemps removes the temporary files a killed run of this prefix
// left behind (we hold the lock, so no run is writing them). They never
// match a pick-up pattern, but they take space.
func removeStaleTemps(outDir, prefix, statePath string) {
	files, _ := filepath.Glob(filepath.Join(outDir, "."+prefix+"-*.tmp"))
	for _, path := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "."), ".tmp")
		if info, ok := syncfile.ParseFileName(name); ok && info.Prefix == prefix {
			os.Remove(path)
		}
	}
	states, _ := filepath.Glob(filepath.Join(filepath.Dir(statePath), "."+filepath.Base(statePath)+".*.tmp"))
	for _, path := range states {
		os.Remove(path)
	}
}

// recoverCommitted adopts the file a run completed but could not record:
// killed between the rename and the state update, it left the next
// sequence's file in place with the old state. Writing that sequence again
// with another window would give the master two different files of one
// sequence, and it rejects the second; so the state moves on to the file.
func recoverCommitted(opts *Options, prev *State) (*State, error) {
	if prev == nil {
		return nil, nil
	}
	for _, mode := range []string{syncfile.ModeFull, syncfile.ModeIncremental} {
		for _, gz := range []bool{true, false} {
			path := filepath.Join(opts.OutDir, syncfile.FileName(prev.Prefix, prev.Sequence+1, mode, gz))
			r, err := syncfile.Open(path, syncfile.ReaderOptions{})
			if err != nil {
				continue
			}
			h := *r.Header()
			r.Close()
			if h.Prefix != prev.Prefix || h.Stream != prev.Stream || h.Sequence != prev.Sequence+1 {
				continue
			}
			next := &State{Prefix: prev.Prefix, Stream: prev.Stream, Sequence: h.Sequence, Until: h.Until, Source: prev.Source}
			if origin := h.Source.Origin(); origin.Host != "" {
				next.Source = &origin
			}
			if err := SaveState(opts.StatePath, next); err != nil {
				return nil, err
			}
			opts.warn("adopted %s, which an interrupted export had completed without updating the state file", path)
			return next, nil
		}
	}
	return prev, nil
}
