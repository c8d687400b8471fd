//go:build !unix

package main

import "errors"

var errUnsupported = errors.New("not supported on this system")

func pause(int) error  { return errUnsupported }
func resume(int) error { return errUnsupported }
func fdBudget() int    { return 256 }
