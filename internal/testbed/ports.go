package testbed

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// pickPorts returns two TCP ports on 127.0.0.1 that were free a moment ago: one for
// moto, and one for Vault whose next port is free too, because a dev server also
// listens for cluster traffic on its API port + 1. All listeners are open at once so
// the ports differ; another program may still take one before the bed does, in which
// case start-up fails with the server's log.
func pickPorts() (moto, vault int, err error) {
	var open []net.Listener
	defer func() {
		for _, l := range open {
			l.Close()
		}
	}()
	listen := func(port int) (int, error) {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return 0, err
		}
		open = append(open, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}

	for attempt := 0; vault == 0; attempt++ {
		if attempt == 20 {
			return 0, 0, errors.New("pick free ports: found no free pair of neighbouring ports")
		}
		p, err := listen(0)
		if err != nil {
			return 0, 0, fmt.Errorf("pick a free port: %w", err)
		}
		if p < 65535 {
			if _, err := listen(p + 1); err == nil {
				vault = p
			}
		}
		// Otherwise p stays held, so the next attempt gets another port.
	}
	moto, err = listen(0)
	if err != nil {
		return 0, 0, fmt.Errorf("pick a free port: %w", err)
	}
	return moto, vault, nil
}

// serverDir makes dir absolute and creates it, and picks free ports for one
// more server beside the bed: a plain port and a Vault port (whose neighbour,
// the cluster port, is free too).
func serverDir(dir string) (abs string, port, vaultPort int, err error) {
	if abs, err = filepath.Abs(dir); err != nil {
		return "", 0, 0, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", 0, 0, err
	}
	port, vaultPort, err = pickPorts()
	return abs, port, vaultPort, err
}

// retryBind runs start up to three times while it fails because a port it
// picked was taken in between: pickPorts closes its listeners before the
// server binds, and another process (an outgoing connection of a parallel
// test, say) may get the port first. start stops what it started on error.
func retryBind[T any](start func() (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	for range 3 {
		v, err = start()
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "address already in use") {
			break
		}
	}
	return v, err
}
