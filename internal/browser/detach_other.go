//go:build !unix

package browser

import "os/exec"

// detach does nothing here: the Windows handler runs outside the console.
func detach(*exec.Cmd) {}

// newSession does nothing here: without sessions, its standard streams
// (none of ours) keep the command apart from the run.
func newSession(*exec.Cmd) {}
