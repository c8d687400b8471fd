//go:build unix

package server

import (
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// TestActivated: the socket systemd passes is taken when LISTEN_PID names
// this process, never when it names another; the variables are removed
// either way; what is not one TCP listening socket is refused.
func TestActivated(t *testing.T) {
	pid := os.Getpid()
	tests := []struct {
		name    string
		env     map[string]string
		fd      func(t *testing.T) uintptr
		want    bool // a listener
		wantErr bool
		taken   bool // the descriptor is the code's to close
	}{
		{"nothing passed", map[string]string{}, tcpSocket, false, false, false},
		{"for another process", map[string]string{"LISTEN_PID": strconv.Itoa(pid + 1), "LISTEN_FDS": "1"}, tcpSocket, false, false, false},
		{"for this one", map[string]string{"LISTEN_PID": strconv.Itoa(pid), "LISTEN_FDS": "1", "LISTEN_FDNAMES": "vcp"}, tcpSocket, true, false, true},
		{"two sockets", map[string]string{"LISTEN_PID": strconv.Itoa(pid), "LISTEN_FDS": "2"}, tcpSocket, false, true, false},
		{"not a number", map[string]string{"LISTEN_PID": strconv.Itoa(pid), "LISTEN_FDS": "x"}, tcpSocket, false, true, false},
		{"a pipe", map[string]string{"LISTEN_PID": strconv.Itoa(pid), "LISTEN_FDS": "1"}, pipeEnd, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			unset := func(k string) error { delete(env, k); return nil }
			fd := tt.fd(t)
			ln, err := activated(func(k string) string { return env[k] }, unset, pid, fd)
			if (err != nil) != tt.wantErr || (ln != nil) != tt.want {
				t.Fatalf("listener %v, error %v; want a listener: %v, an error: %v", ln, err, tt.want, tt.wantErr)
			}
			if len(tt.env) > 0 && len(env) != 0 {
				t.Errorf("variables left for children: %v", env)
			}
			if !tt.taken {
				syscall.Close(int(fd))
			}
			if ln == nil {
				return
			}
			defer ln.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a, err := ln.Accept()
			if err != nil {
				t.Fatalf("accept on the passed socket: %v", err)
			}
			a.Close()
		})
	}
}

// tcpSocket is a descriptor of a listening socket on loopback, as systemd
// passes one, owned by the caller.
func tcpSocket(t *testing.T) uintptr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return dup(t, f.Fd())
}

func pipeEnd(t *testing.T) uintptr {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	return dup(t, r.Fd())
}

// dup is a copy of fd that no *os.File owns, so that the code under test
// may close it.
func dup(t *testing.T, fd uintptr) uintptr {
	t.Helper()
	n, err := syscall.Dup(int(fd))
	if err != nil {
		t.Fatal(err)
	}
	return uintptr(n)
}
