//go:build !unix

package child

import "os/exec"

// ownGroup leaves cmd as exec makes it: without process groups the context
// kills the child alone, and WaitDelay keeps a grandchild that holds the
// output from blocking the run past --timeout.
func ownGroup(*exec.Cmd) {}
