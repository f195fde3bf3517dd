// Command tributary keeps one master MySQL/MariaDB database filled with the
// data of many child databases. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"tributary/cmd"
	"tributary/internal/exitcode"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run())
}

// run is main without the exit, so deferred cleanup always happens first.
func run() int {
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
	switch {
	case code == exitcode.Interrupted:
		fmt.Fprintln(os.Stderr, "tributary: interrupted; nothing was committed")
	case exitcode.WasTold(err):
	default:
		fmt.Fprintf(os.Stderr, "tributary: %v\n", err)
	}
	return code
}
