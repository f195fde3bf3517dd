//go:build !profile

package main

// startProfiling does nothing in a release build; see profile.go.
func startProfiling() (stop func()) { return func() {} }
