//go:build !unix

package main

// disableCoreDumps does nothing where there is no RLIMIT_CORE (Windows:
// crash dumps are configured system-wide through Windows Error Reporting).
func disableCoreDumps() {}
