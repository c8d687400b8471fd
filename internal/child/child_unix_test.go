//go:build unix

package child_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/child"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// The child's errors are tested as the run reports them: through
// process.ChildError, which the MFA code and the token helper use.

// TestChildKillsItsGroup: at the deadline the child and the testenv.Pipeline it started die
// together, and the error names the child and --timeout.
func TestChildKillsItsGroup(t *testing.T) {
	g := testenv.WatchGroup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := &child.Cmd{What: "test child /bin/sh", Timeout: 2 * time.Second, Hint: "a hint", Stderr: g.W}
	err := testenv.Within(t, "child.run", func() error { return process.ChildError(c.Run(ctx, "/bin/sh", "-c", testenv.Pipeline)) })
	var e *process.Error
	if !errors.As(err, &e) || e.Msg != "test child /bin/sh did not answer within --timeout (2s)" ||
		e.Hint != "a hint" || e.Code != process.ExitFailure || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("run = %#v (%v), want an exit-1 *Error naming the child and --timeout, wrapping DeadlineExceeded", err, err)
	}
	if err := g.Gone(); err != nil {
		t.Errorf("the child's testenv.Pipeline outlived it: %v", err)
	}
}

// TestChildSignal: SIGTERM to this process while a child runs ends the child and its
// testenv.Pipeline and comes back as an error, instead of killing this process and leaving
// the testenv.Pipeline behind (it is not in our process group to get the signal itself).
func TestChildSignal(t *testing.T) {
	g := testenv.WatchGroup(t)
	c := &child.Cmd{What: "test child", Timeout: time.Minute, Stderr: g.W}
	done := make(chan error, 1)
	go func() { done <- process.ChildError(c.Run(context.Background(), "/bin/sh", "-c", testenv.Pipeline)) }()
	// The handler is in place before the child starts, so before it writes.
	if err := g.WaitStarted(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := testenv.Within(t, "child.run after SIGTERM", func() error { return <-done })
	var e *process.Error
	if !errors.As(err, &e) || e.Msg != "test child was stopped: interrupted by a signal" {
		t.Errorf("run = %v, want the child stopped by a signal", err)
	}
	if err := g.Gone(); err != nil {
		t.Errorf("the child's testenv.Pipeline outlived it: %v", err)
	}
}
