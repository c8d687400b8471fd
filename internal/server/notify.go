package server

import (
	"fmt"
	"net"
	"strings"
)

// The readiness protocol of systemd's Type=notify services (sd_notify(3)),
// spoken without libsystemd: one datagram of NAME=VALUE lines on the unix
// socket that $NOTIFY_SOCKET names.
const envNotifySocket = "NOTIFY_SOCKET"

// TakeNotifySocket returns the socket $NOTIFY_SOCKET names, "" when it is
// not set, and removes the variable, so that no process the server starts
// (a token helper, an mfa_command) speaks for it. The command layer passes
// the process environment's getenv and unsetenv.
func TakeNotifySocket(getenv func(string) string, unsetenv func(string) error) string {
	addr := getenv(envNotifySocket)
	_ = unsetenv(envNotifySocket)
	return addr
}

// Notify sends state (such as "READY=1") to the service manager listening
// on addr: a path, or an abstract socket name starting with '@'. An empty
// addr (no service manager asked) sends nothing.
func Notify(addr, state string) error {
	if addr == "" {
		return nil
	}
	if !strings.HasPrefix(addr, "/") && !strings.HasPrefix(addr, "@") {
		return fmt.Errorf("%s=%q: only a unix socket (a path, or @ and an abstract name) is supported", envNotifySocket, addr)
	}
	// Go's net package takes a leading '@' for the abstract namespace.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify the service manager at %s: %w", addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify the service manager at %s: %w", addr, err)
	}
	return nil
}
