// Package syncfiletest holds what tests of several packages ask of the
// sync files in a directory.
package syncfiletest

import (
	"os"
	"testing"

	"tributary/syncfile"
)

// Visible lists the files of dir named as sync files (what an admin's
// pick-up pattern takes: no dotfile, no *.tmp), in name order.
func Visible(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if _, ok := syncfile.ParseFileName(e.Name()); ok {
			names = append(names, e.Name())
		}
	}
	return names
}
