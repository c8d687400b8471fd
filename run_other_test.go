//go:build !unix

package main

import "os/exec"

// setProcAttr: sessions and process groups are Unix things; elsewhere the
// run is an ordinary child.
func setProcAttr(*exec.Cmd, runOpts) {}
