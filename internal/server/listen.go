package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// errUnspecified is the error of a listen address that names no address:
// 0.0.0.0, [::] or none at all (":PORT"). Such a listener is reachable from
// every network the machine is on, and no Host header names it, so every
// local client would be refused while a remote one naming it got in.
var errUnspecified = errors.New("listens on every address of the machine, also those the network reaches")

// CheckListenAddr refuses a listen address that names no address. What
// net.Listen refuses anyway (no port, a name that does not resolve) is
// left to it.
func CheckListenAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	host, _, _ = strings.Cut(host, "%") // a zone
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("%s %w", addr, errUnspecified)
	}
	return nil
}

// Listen listens on addr, "127.0.0.1:0" (loopback, a free port) if empty.
// A name that resolves to no address (0.0.0.0) is refused like the
// address itself.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := CheckListenAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; ip.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("%s (%s) %w", addr, ln.Addr(), errUnspecified)
	}
	return ln, nil
}

// The variables of systemd's socket activation (sd_listen_fds(3)).
const (
	envListenPID   = "LISTEN_PID"
	envListenFDs   = "LISTEN_FDS"
	envListenNames = "LISTEN_FDNAMES"
	// listenFDsStart is the first file descriptor systemd passes.
	listenFDsStart = 3
)

// Activated is the listening socket systemd passed this process (socket
// activation: a .socket unit holds the port, so that no other process can
// take it while the server restarts), or nil when none was passed. The
// variables are removed, so that no child takes the socket for its own:
// the command layer passes the process environment's getenv and unsetenv.
func Activated(getenv func(string) string, unsetenv func(string) error) (net.Listener, error) {
	return activated(getenv, unsetenv, os.Getpid(), listenFDsStart)
}

// activated is Activated with the process id and the first descriptor
// given.
func activated(getenv func(string) string, unsetenv func(string) error, pid int, fd uintptr) (net.Listener, error) {
	fds, forPID := getenv(envListenFDs), getenv(envListenPID)
	if fds == "" {
		return nil, nil
	}
	for _, v := range []string{envListenPID, envListenFDs, envListenNames} {
		_ = unsetenv(v)
	}
	if forPID != strconv.Itoa(pid) {
		// Inherited from a parent the sockets were meant for.
		return nil, nil
	}
	n, err := strconv.Atoi(fds)
	switch {
	case err != nil || n < 0:
		return nil, fmt.Errorf("socket activation: %s=%q is not a number of sockets", envListenFDs, fds)
	case n == 0:
		return nil, nil
	case n > 1:
		return nil, fmt.Errorf("socket activation: systemd passed %d sockets, the server listens on one", n)
	}
	f := os.NewFile(fd, "socket from systemd")
	ln, err := net.FileListener(f) // a duplicate, close-on-exec
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("socket activation: file descriptor %d is not a listening socket: %w", fd, err)
	}
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		ln.Close()
		return nil, fmt.Errorf("socket activation: the socket systemd passed is not TCP (%s)", ln.Addr())
	}
	if addr.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("socket activation: the socket systemd passed (%s) %w", addr, errUnspecified)
	}
	return ln, nil
}
