package server

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestNotify: the state reaches a service manager's socket, named by a path
// or (with '@') in the abstract namespace; no socket, nothing is sent; an
// address of another kind is an error.
func TestNotify(t *testing.T) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	for _, addr := range []string{filepath.Join(t.TempDir(), "notify"), "@vcp-notify-test-" + hex.EncodeToString(b[:])} {
		t.Run(addr[:1], func(t *testing.T) {
			ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			if err := Notify(addr, "READY=1\nSTATUS=serving"); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 256)
			n, err := ln.Read(buf)
			if err != nil || string(buf[:n]) != "READY=1\nSTATUS=serving" {
				t.Errorf("got %q (%v), want the state sent", buf[:n], err)
			}
		})
	}
	if err := Notify("", "READY=1"); err != nil {
		t.Errorf("without a socket: %v", err)
	}
	if err := Notify("vsock:2:1234", "READY=1"); err == nil || !strings.Contains(err.Error(), "only a unix socket") {
		t.Errorf("a vsock address: %v, want refused", err)
	}
}
