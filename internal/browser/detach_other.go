//go:build !unix

package browser

import "os/exec"

// detach does nothing here: the Windows handler runs outside the console.
func detach(*exec.Cmd) {}
