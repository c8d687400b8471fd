//go:build linux

package main

// Tests of serve and exec --server as processes, against a fake Vault: the
// signals that stop serve, the socket systemd passes, and the core dump
// limit of exec --server's command. Linux: they read /proc and trace the
// helper with strace.

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeProcess(t *testing.T) {
	bin := coreTestBinary(t)
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(iamUserAnswer))
	}))
	defer vault.Close()
	env := append(homeEnv(t), "VAULT_TOKEN="+unitToken, "VAULT_ADDR="+vault.URL)
	addSecret(unitToken)
	addSecret(unitSecretKey)
	want := []string{envFullURI, envTokenFile}

	// SIGQUIT ends serve as SIGTERM does: cleanly, the token file removed
	// (Go's own handling would dump the goroutines and leave the file).
	t.Run("SIGQUIT", func(t *testing.T) {
		s := startServing(t, env, want, func(ctx context.Context) *exec.Cmd {
			return exec.CommandContext(ctx, bin, "serve", "--print-env", "--role", "dev")
		})
		s.stopWith(t, syscall.SIGQUIT)
	})

	// Under socket activation serve takes the socket systemd passed (fd 3,
	// LISTEN_FDS=1, LISTEN_PID its own pid) and serves on it.
	t.Run("socket activation", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		sock, err := ln.(*net.TCPListener).File()
		ln.Close() // the socket lives on in sock, then in the server only
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		s := startServing(t, append(env, "LISTEN_FDS=1", "LISTEN_FDNAMES=vcp"), want, func(ctx context.Context) *exec.Cmd {
			// As systemd does: LISTEN_PID names the process that gets the socket.
			cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$@"`, "sh",
				bin, "serve", "--print-env", "--role", "dev")
			cmd.ExtraFiles = []*os.File{sock}
			return cmd
		})
		sock.Close()
		if uri := s.vars[envFullURI]; uri != "http://"+addr+"/creds/dev" {
			t.Errorf("%s = %s, want the passed socket's address %s", envFullURI, uri, addr)
		}
		r := httpDo(t, "GET", s.vars[envFullURI], map[string]string{"Authorization": s.token})
		if r.status != 200 || !strings.Contains(r.body, `"AccessKeyId":"AKIAEXAMPLE"`) {
			t.Errorf("on the passed socket: %d %s", r.status, r.body)
		}
		if want := filepath.Base(s.vars[envTokenFile]); want != "serve-"+port(addr)+".token" {
			t.Errorf("token file %s, want one named for the socket's port", s.vars[envTokenFile])
		}
		s.stop(t)
	})

	t.Run("print-env as printed", func(t *testing.T) { printedEnv(t, bin, env) })

	t.Run("exec --server core limit", func(t *testing.T) { execServerCoreLimit(t, bin, env) })
}

// printedEnv: what --print-env prints, run by sh, sets AWS_CONTAINER_AUTHORIZATION_TOKEN too, for clients that know no other
// variable, to the token the server takes; the printed text holds no token.
func printedEnv(t *testing.T, bin string, env []string) {
	s := startServing(t, env, []string{envFullURI, envTokenFile, envToken}, func(ctx context.Context) *exec.Cmd {
		return exec.CommandContext(ctx, bin, "serve", "--print-env", "--role", "dev")
	})
	if s.vars[envToken] != "<"+s.vars[envTokenFile] {
		t.Errorf("%s is set from %q, want from the token file %s", envToken, s.vars[envToken], s.vars[envTokenFile])
	}
	if strings.Contains(s.printed, s.token) {
		t.Errorf("--print-env printed the token:\n%s", s.printed)
	}
	out, err := exec.Command("sh", "-c", s.printed+`printf %s "$`+envToken+`"`).Output()
	if err != nil || string(out) != s.token {
		t.Fatalf("%s after sh ran the printed commands: %q (%v), want the server's token", envToken, out, err)
	}
	if r := httpDo(t, "GET", s.vars[envFullURI], map[string]string{"Authorization": string(out)}); r.status != 200 {
		t.Errorf("with the token from %s: %d %s", envToken, r.status, r.body)
	}
	s.stop(t)
}

// execServerCoreLimit: the command exec --server runs gets the core dump
// limit the helper started with, and the helper, which holds the
// credentials, never raises its own: strace shows every change of
// RLIMIT_CORE, and none that raises it is the helper's.
func execServerCoreLimit(t *testing.T, bin string, env []string) {
	start := setCoreLimit(t)
	argv := []string{bin, "exec", "--server", "--role", "dev", "--no-cache", "--", "cat", "/proc/self/limits"}
	var trace string
	if strace, err := exec.LookPath("strace"); err == nil {
		trace = filepath.Join(t.TempDir(), "trace")
		argv = append([]string{strace, "-f", "-qq", "-o", trace, "-e", "trace=prlimit64,setrlimit,clone,clone3,fork,vfork,execve"}, argv...)
	}
	ctx, cancel := context.WithTimeout(runCtx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	checkCommandCoreLimit(t, "exec --server", cmd, start)
	if trace == "" {
		t.Skip("no strace: whether the helper raised its own limit is not checked")
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	helper, raises := helperThreads(string(data)), coreRaises(string(data))
	if len(raises) == 0 {
		t.Fatalf("the trace shows no raise of RLIMIT_CORE at all, yet the command got its limit:\n%s", data)
	}
	for _, r := range raises {
		if helper[r.tid] {
			t.Errorf("the helper (thread %d) raised its own core dump limit: %s", r.tid, r.line)
		}
	}
}

// straceLine is "TID rest" of strace -f.
var straceLine = regexp.MustCompile(`^(\d+) +(.*)$`)

// helperThreads are the thread ids of the process strace started (the
// helper): the first one traced, and those it and they made with
// CLONE_THREAD. A process they start (clone without CLONE_THREAD, fork,
// vfork) is not the helper, nor anything it makes.
func helperThreads(trace string) map[int]bool {
	helper := map[int]bool{}
	pending := map[int]string{} // a call of the thread, cut by another's
	for _, l := range strings.Split(trace, "\n") {
		m := straceLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		tid, _ := strconv.Atoi(m[1])
		if len(helper) == 0 {
			helper[tid] = true
		}
		call := m[2]
		if before, ok := strings.CutSuffix(call, " <unfinished ...>"); ok {
			pending[tid] = before
			continue
		}
		if _, after, ok := strings.Cut(call, " resumed>"); ok {
			call, pending[tid] = pending[tid]+after, ""
		}
		if !helper[tid] || !strings.HasPrefix(call, "clone") || !strings.Contains(call, "CLONE_THREAD") {
			continue
		}
		if i := strings.LastIndex(call, "= "); i >= 0 {
			if child, err := strconv.Atoi(strings.Fields(call[i+2:])[0]); err == nil {
				helper[child] = true
			}
		}
	}
	return helper
}

type coreRaise struct {
	tid  int
	line string
}

// coreRaises are the calls in trace that set a soft RLIMIT_CORE above 0.
func coreRaises(trace string) []coreRaise {
	set := regexp.MustCompile(`(?:prlimit64\(0, RLIMIT_CORE, |setrlimit\(RLIMIT_CORE, )\{rlim_cur=([^,]+),`)
	var out []coreRaise
	for _, l := range strings.Split(trace, "\n") {
		m := straceLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if s := set.FindStringSubmatch(m[2]); s != nil && s[1] != "0" {
			tid, _ := strconv.Atoi(m[1])
			out = append(out, coreRaise{tid, l})
		}
	}
	return out
}
