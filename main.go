// Command tributary keeps one master MySQL/MariaDB database filled with the
// data of many child databases. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"tributary/cmd"
	"tributary/internal/exitcode"
)

// version is the release version, set at build time with
// -ldflags "-X main.version=1.2.0" (scripts/package.sh does); the commit
// and its date come from the build information Go records.
var version = "dev"

func main() {
	limitMemory()
	os.Exit(run())
}

// softMemoryLimit is where the garbage collector starts working harder to
// keep the process's memory down. By default Go lets the heap grow to
// twice what is live before it collects, so an import of millions of rows
// holding 100 MB of IDs and trigger-repair values would occupy 200 MB and
// more; with the limit it stays near what it really holds, at some CPU.
const softMemoryLimit = 120 << 20

// limitMemory sets softMemoryLimit unless the admin set GOMEMLIMIT (which
// Go applies itself).
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
}

// run is main without the exit, so deferred cleanup always happens first.
func run() int {
	defer startProfiling()()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := cmd.NewRootCommand(version)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	code := exitcode.Code(err)
	if ctx.Err() != nil && code == exitcode.Failure {
		// A query cut short by Ctrl-C fails with a driver error rather than
		// context.Canceled; the user still interrupted us.
		code = exitcode.Interrupted
	}
	cmd.ReportError(root, err, code)
	return code
}
