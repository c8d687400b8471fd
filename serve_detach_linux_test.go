//go:build linux

package main

// Tests of serve --detach and of serve as a systemd Type=notify service, as
// processes against a fake Vault. Linux: they look at the server in /proc and
// wait for its end through a pidfd.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestServeDetach: `eval "$(serve --detach)"` in sh returns once the server
// is ready, with the variables set (the token from the file), and the server
// goes on in a session of its own, stdin /dev/null, its log in
// serve-PORT.log; kill "$VAULT_CREDENTIAL_PROCESS_SERVE_PID" stops it
// cleanly. A start that fails prints the server's error and exits with its
// status, stdout empty.
func TestServeDetach(t *testing.T) {
	bin := coreTestBinary(t)
	rt := privateDir(t)
	env := append(homeEnv(t), "VAULT_TOKEN="+unitToken, "XDG_RUNTIME_DIR="+rt)
	addSecret(unitToken)
	addSecret(unitSecretKey)

	t.Run("ready", func(t *testing.T) {
		env := append(env, "VAULT_ADDR="+fakeVault(t, 200, iamUserAnswer))
		// As the README says, and then what the shell has: each variable on a line.
		script := `eval "$("$0" serve --role dev --detach)" || exit 9
for v in AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_CONTAINER_AUTHORIZATION_TOKEN ` +
			envServePID + ` ` + envServeLog + `; do eval "printf '%s=%s\n' $v \"\$$v\""; done`
		cmd := exec.Command("sh", "-c", script, bin)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("sh: %v\nstderr:\n%s", err, stderr.String())
		}
		vars := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			k, v, _ := strings.Cut(l, "=")
			vars[k] = v
		}
		pid, err := strconv.Atoi(vars[envServePID])
		if err != nil {
			t.Fatalf("%s=%q: %v\nstderr:\n%s", envServePID, vars[envServePID], err, stderr.String())
		}
		done := pidDone(t, pid)
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
		addSecret(vars[envToken])
		token, err := os.ReadFile(vars[envTokenFile])
		if err != nil || string(token) != vars[envToken] || len(token) < 40 {
			t.Errorf("%s %q, the token file %s holds %q (%v)", envToken, vars[envToken], vars[envTokenFile], token, err)
		}
		if r := httpDo(t, "GET", vars[envFullURI], map[string]string{"Authorization": vars[envToken]}); r.status != 200 {
			t.Errorf("the detached server answered %d %s", r.status, r.body)
		}
		log := vars[envServeLog]
		port := port(strings.TrimPrefix(strings.Split(vars[envFullURI], "/creds/")[0], "http://"))
		if want := filepath.Join(rt, "vault-credential-process", "serve-"+port+".log"); log != want {
			t.Errorf("%s=%s, want %s", envServeLog, log, want)
		}
		if fi, err := os.Stat(log); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("log %s: %v, want mode 0600", log, err)
		}
		if !strings.Contains(stderr.String(), "running in the background as pid "+vars[envServePID]) {
			t.Errorf("stderr does not say where the server runs:\n%s", stderr.String())
		}
		detachedProcess(t, pid)

		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		<-done
		data, _ := os.ReadFile(log)
		if !strings.Contains(string(data), `GET "/creds/dev" profile=dev status=200`) || !strings.HasSuffix(string(data), "serve: shut down\n") {
			t.Errorf("the log does not hold the request and the shutdown:\n%s", data)
		}
		if _, err := os.Stat(vars[envTokenFile]); err == nil {
			t.Errorf("the token file outlived the server")
		}
		assertNoSecret(t, "stderr of serve --detach", stderr.String())
		assertNoSecret(t, "the log of serve --detach", string(data))
	})

	t.Run("failed start", func(t *testing.T) {
		env := append(env, "VAULT_ADDR="+fakeVault(t, 403, `{"errors":["permission denied"]}`))
		cmd := exec.Command(bin, "serve", "--role", "dev", "--detach")
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		assertFailure(t, result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()},
			process.ExitFailure, "permission denied", "the Vault token is invalid")
		if err == nil {
			t.Error("exit 0")
		}
	})
}

// detachedProcess checks that pid runs in a session of its own, with
// /dev/null for stdin and stdout.
func detachedProcess(t *testing.T, pid int) {
	t.Helper()
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid pgrp session ...: comm may hold spaces.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if sid := fields[3]; sid != strconv.Itoa(pid) {
		t.Errorf("the server's session is %s, want its own (%d)", sid, pid)
	}
	for _, fd := range []string{"0", "1"} {
		if target, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd)); err != nil || target != os.DevNull {
			t.Errorf("the server's fd %s is %q (%v), want %s", fd, target, err, os.DevNull)
		}
	}
}

// pidDone is closed when the process pid has ended: a pidfd becomes readable
// then. (The detached server is not this process's child: Wait cannot see it.)
func pidDone(t *testing.T, pid int) <-chan struct{} {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer unix.Close(fd)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err != unix.EINTR {
				return
			}
		}
	}()
	return done
}

// TestServeNotify: under systemd's Type=notify (NOTIFY_SOCKET, here an
// abstract name) serve sends READY=1 once the credentials are in memory and
// it listens, and STOPPING=1 when it stops; while Vault cannot be reached at
// the start, it is not ready (/healthz says 503) until a background refresh
// gets through.
func TestServeNotify(t *testing.T) {
	bin := coreTestBinary(t)
	addSecret(unitToken)
	addSecret(unitSecretKey)
	tests := []struct {
		name      string
		reachable bool // Vault answers from the start
	}{
		{"Vault up", true},
		{"Vault down at the start", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b [6]byte
			_, _ = rand.Read(b[:])
			addr := "@vcp-notify-" + hex.EncodeToString(b[:])
			sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer sock.Close()
			vault := closedPort(t)
			if tt.reachable {
				startFakeVaultAt(t, vault)
			}
			env := append(homeEnv(t), "VAULT_TOKEN="+unitToken, "VAULT_ADDR=http://"+vault, "NOTIFY_SOCKET="+addr)
			s := startServing(t, env, []string{envFullURI, envTokenFile}, func(ctx context.Context) *exec.Cmd {
				return exec.CommandContext(ctx, bin, "serve", "--print-env", "--role", "dev")
			})
			health := strings.TrimSuffix(s.vars[envFullURI], "/creds/dev") + "/healthz"
			if !tt.reachable {
				if r := httpDo(t, "GET", health, nil); r.status != 503 || r.body != `{"status":"not_ready"}`+"\n" {
					t.Errorf("healthz before any credentials: %d %s", r.status, r.body)
				}
				startFakeVaultAt(t, vault)
			}
			if got := readDatagram(t, sock); !strings.HasPrefix(got, "READY=1\n") {
				t.Fatalf("first notification %q, want READY=1", got)
			}
			if r := httpDo(t, "GET", health, nil); r.status != 200 || r.body != `{"status":"ready"}`+"\n" {
				t.Errorf("healthz once ready: %d %s", r.status, r.body)
			}
			s.stop(t)
			if got := readDatagram(t, sock); got != "STOPPING=1" {
				t.Errorf("notification at the stop %q, want STOPPING=1", got)
			}
		})
	}
}

// startFakeVaultAt starts a fake Vault answering iam_user credentials at addr.
func startFakeVaultAt(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(iamUserAnswer))
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
}

// readDatagram reads one datagram; the deadline only bounds a server that
// never sends one.
func readDatagram(t *testing.T, sock *net.UnixConn) string {
	t.Helper()
	_ = sock.SetReadDeadline(time.Now().Add(2 * time.Minute))
	buf := make([]byte, 4096)
	n, err := sock.Read(buf)
	if err != nil {
		t.Fatalf("read a notification: %v", err)
	}
	return string(buf[:n])
}
