//go:build profile

package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// A binary built with -tags profile writes a CPU profile of its run to
// the file TRIBUTARY_CPUPROFILE names, and the heap profile of its
// largest live heap (sampled every second) to TRIBUTARY_HEAPPROFILE
// (docs/development.md); release builds carry none of this.
func startProfiling() (stop func()) {
	if path := os.Getenv("TRIBUTARY_HEAPPROFILE"); path != "" {
		go watchHeap(path)
	}
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

// watchHeap writes a heap profile whenever the live heap after a
// collection is the largest seen so far.
func watchHeap(path string) {
	var peak uint64
	for range time.Tick(time.Second) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapAlloc <= peak {
			continue
		}
		peak = m.HeapAlloc
		runtime.GC()
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tributary: heap profile: %v\n", err)
			return
		}
		pprof.WriteHeapProfile(f)
		f.Close()
	}
}
