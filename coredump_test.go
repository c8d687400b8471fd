//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCoreDumps: the helper runs with core dumps off, and the command that
// `exec` runs gets the limit back. Linux only: it reads /proc/PID/limits. The limit of this test process, which
// the helper inherits, is raised to a known value first, so that the
// helper's 0 is its own doing.
func TestCoreDumps(t *testing.T) {
	start := setCoreLimit(t)
	bin := coreTestBinary(t)
	env := append(homeEnv(t), "VAULT_TOKEN="+unitToken)
	addSecret(unitToken)
	addSecret(unitSecretKey)

	t.Run("helper", func(t *testing.T) {
		// The fake Vault holds the credentials request until the test has read
		// the helper's limits: the helper is then surely past main's start.
		arrived, release := make(chan struct{}), make(chan struct{})
		vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/creds/") {
				close(arrived)
				<-release
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(iamUserAnswer))
		}))
		defer vault.Close()
		ctx, cancel := context.WithTimeout(runCtx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--role", "dev", "--no-cache")
		cmd.Env = append(env, "VAULT_ADDR="+vault.URL)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var limits string
		select {
		case <-arrived:
			limits = readLimits(t, fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
			close(release)
		case err := <-exited:
			t.Fatalf("the helper ended before asking Vault: %v\n%s", err, stderr.String())
		}
		if err := <-exited; err != nil || !strings.Contains(stdout.String(), `"AccessKeyId":"AKIAEXAMPLE"`) {
			t.Fatalf("helper: %v, stdout %q, stderr:\n%s", err, stdout.String(), stderr.String())
		}
		assertNoSecret(t, "stderr", stderr.String())
		if want := coreLine(0, start.Max); limits != want {
			t.Errorf("helper's core limit %q, want %q (soft 0, hard kept)", limits, want)
		}
	})

	t.Run("exec restores it", func(t *testing.T) {
		vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(iamUserAnswer))
		}))
		defer vault.Close()
		ctx, cancel := context.WithTimeout(runCtx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "exec", "--role", "dev", "--no-cache", "--", "cat", "/proc/self/limits")
		cmd.Env = append(env, "VAULT_ADDR="+vault.URL)
		checkCommandCoreLimit(t, "exec", cmd, start)
	})
}

// setCoreLimit sets this process's soft RLIMIT_CORE to a known value other
// than 0 (the helper's children inherit it) until the test ends, and
// returns the limit set.
func setCoreLimit(t *testing.T) syscall.Rlimit {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &old); err != nil {
		t.Fatal(err)
	}
	if old.Max == 0 {
		if ci {
			t.Fatal("the hard core file size limit is 0: nothing to restore")
		}
		t.Skip("the hard core file size limit is 0: nothing to restore")
	}
	lim := syscall.Rlimit{Cur: min(old.Max, 4<<20), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_CORE, &old) })
	return lim
}

// coreLine is the soft and hard limit as /proc/PID/limits shows them.
func coreLine(soft, hard uint64) string {
	f := func(v uint64) string {
		if v == ^uint64(0) { // RLIM_INFINITY
			return "unlimited"
		}
		return fmt.Sprint(v)
	}
	return f(soft) + " " + f(hard)
}

func readLimits(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return coreLimitLine(t, string(data))
}

// checkCommandCoreLimit runs cmd, what (exec or exec --server) running cat
// /proc/self/limits, and checks the command got back the core dump limit
// this test started with.
func checkCommandCoreLimit(t *testing.T, what string, cmd *exec.Cmd, start syscall.Rlimit) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: %v, stderr:\n%s", what, err, stderr.String())
	}
	if got, want := coreLimitLine(t, stdout.String()), coreLine(start.Cur, start.Max); got != want {
		t.Errorf("the command's core limit %q, want %q (this test's)", got, want)
	}
}

// coreLimitLine picks "soft hard" from the "Max core file size" line of a
// /proc/PID/limits text.
func coreLimitLine(t *testing.T, limits string) string {
	t.Helper()
	for _, l := range strings.Split(limits, "\n") {
		if rest, ok := strings.CutPrefix(l, "Max core file size"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				return f[0] + " " + f[1]
			}
		}
	}
	t.Fatalf("no core file size in:\n%s", limits)
	return ""
}

// coreTestBinary is the binary under test. In -short runs, where
// binaryUnderTest has no folder to build into, it is built into the test's
// own temporary folder.
func coreTestBinary(t *testing.T) string {
	t.Helper()
	if binDir != "" {
		return binaryUnderTest(t)
	}
	out := filepath.Join(t.TempDir(), exe(name))
	if err := buildTo(out, "."); err != nil {
		t.Fatal(err)
	}
	return out
}
