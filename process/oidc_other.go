//go:build !unix

package process

import "os/exec"

// detach leaves the launcher as exec starts it: without sessions, its
// standard streams (none of ours) are what keeps it apart from the run.
func detach(*exec.Cmd) {}
