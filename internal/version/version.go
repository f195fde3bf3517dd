// Package version says which build of tributary is running: the release
// version a packager stamped with -ldflags, and the commit, its date and
// whether the tree was modified, which the Go toolchain records in the
// binary when it builds from a git checkout.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// The commit a build was made from, for builds the toolchain cannot stamp
// itself (a git worktree, whose .git is a file; sources without .git):
// set with -ldflags "-X tributary/internal/version.commit=..." and so on,
// as scripts/package.sh does. What the toolchain records wins.
var (
	commit     string // full revision
	commitTime string // RFC 3339
	modified   string // "true" when the tree had uncommitted changes
)

// Info describes one build.
type Info struct {
	// Version is the release version given with -ldflags "-X main.version=1.2.0",
	// else the module version the toolchain stamped, else "devel".
	Version string
	// Commit is the full revision the binary was built from; empty when it
	// was not built from a checkout (or with -buildvcs=false).
	Commit string
	// CommitTime is that revision's commit time; zero when unknown.
	CommitTime time.Time
	// Modified: the checkout had changes that are not committed.
	Modified bool
	// Go is the toolchain that built the binary, with its OS and architecture.
	Go string
}

// Read builds the Info of the running binary. stamped is the version given
// at link time ("" or "dev" when none was).
func Read(stamped string) Info {
	info := Info{Version: stamped, Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	build, ok := debug.ReadBuildInfo()
	if ok {
		info.fromBuild(build)
	}
	if info.Commit == "" && commit != "" {
		info.Commit, info.Modified = commit, modified == "true"
		if t, err := time.Parse(time.RFC3339, commitTime); err == nil {
			info.CommitTime = t.UTC()
		}
	}
	if info.Version == "" || info.Version == "dev" {
		info.Version = "devel"
		if ok && build.Main.Version != "" && build.Main.Version != "(devel)" {
			info.Version = build.Main.Version
		}
	}
	return info
}

func (i *Info) fromBuild(build *debug.BuildInfo) {
	for _, s := range build.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Commit = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				i.CommitTime = t.UTC()
			}
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
}

// ShortCommit is the commit's first 12 hex digits, as git shows it.
func (i Info) ShortCommit() string {
	if len(i.Commit) > 12 {
		return i.Commit[:12]
	}
	return i.Commit
}

// Short is one line for a sync file's header (source.tool) and for
// messages: "1.2.0", "1.2.0 (3f2c1a9e8b7d)" or "devel (3f2c1a9e8b7d, modified)".
func (i Info) Short() string {
	var notes []string
	if i.Commit != "" {
		notes = append(notes, i.ShortCommit())
	}
	if i.Modified {
		notes = append(notes, "modified")
	}
	if len(notes) == 0 {
		return i.Version
	}
	return i.Version + " (" + strings.Join(notes, ", ") + ")"
}

// String is what "tributary --version" prints: the version on the first
// line, then the commit, its date, the state of the tree and the toolchain.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tributary %s\n", i.Version)
	if i.Commit == "" {
		b.WriteString("commit:   unknown (not built from a git checkout)\n")
	} else {
		fmt.Fprintf(&b, "commit:   %s\n", i.Commit)
		if !i.CommitTime.IsZero() {
			fmt.Fprintf(&b, "date:     %s\n", i.CommitTime.Format(time.RFC3339))
		}
		tree := "clean (every change committed)"
		if i.Modified {
			tree = "modified (built with changes that are not committed)"
		}
		fmt.Fprintf(&b, "tree:     %s\n", tree)
	}
	fmt.Fprintf(&b, "built by: %s\n", i.Go)
	return b.String()
}
