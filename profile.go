//go:build profile

package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// A binary built with -tags profile writes a CPU profile of its run to
// the file TRIBUTARY_CPUPROFILE names (docs/development.md); release
// builds carry none of this.
func startProfiling() (stop func()) {
	path := os.Getenv("TRIBUTARY_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tributary: cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "tributary: cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
