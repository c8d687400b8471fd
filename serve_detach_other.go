//go:build !unix

package main

import (
	"net"
	"os"
)

// serve --detach needs a Unix session and descriptors: elsewhere it is
// refused, and no process is the second copy.

func (c *cli) takeDetachPipe() *os.File { return nil }

func (c *cli) detach() int {
	return c.report(usageError("serve: --detach is not available on this system: start serve in the background another way (a service)"))
}

func (c *cli) daemonize(string, net.Addr, string) (string, error) { return "", nil }
