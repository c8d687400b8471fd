// Package child runs the programs a run starts and waits for (the Vault
// token helper, the mfa_command), bounded by the run's context: at its end
// the child's whole process group dies, and a signal to this process ends
// the child instead.
package child

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/awslogin"
)

// childWaitDelay bounds how long Wait waits for a child's output pipes once
// the child has exited or been killed. A process it left behind (a daemon it
// started, one that left its process group) may hold them open for ever;
// after this long they are closed and Wait returns.
const childWaitDelay = 500 * time.Millisecond

// Cmd is a program a run starts and waits for: the token helper, the
// mfa_command. Both run the same way, bounded by the run's context.
type Cmd struct {
	What    string        // names it in errors: "token helper /usr/local/bin/h", "mfa_command"
	Timeout time.Duration // the run's --timeout, which the context counts down
	Hint    string        // what to do when it did not answer in time
	Env     []string      // nil: this process's environment
	Stdout  io.Writer
	Stderr  io.Writer
}

// Error is a child that did not finish: it did not answer within
// --timeout, or the run or a signal stopped it. Its text names the child
// by What, never by its command line (an mfa_command may hold a TOTP seed).
type Error struct {
	Msg  string
	Hint string
	Err  error // context.DeadlineExceeded or context.Canceled
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Run runs name with args in a process group of its own. When ctx ends, the
// whole group is killed, not the child alone: a pipeline such as
// `sleep 15 | cat` would otherwise keep the output pipe, and with it the
// run, alive past --timeout. It then returns an *Error saying that c.What
// did not answer in time; any other error comes back as exec returned it,
// for the caller to explain.
//
// While the child runs, SIGINT and SIGTERM end it instead of this process:
// in a group of its own the child no longer gets the terminal's Ctrl-C, and
// would outlive the run. Only runs that start a child pay for the handler.
func (c *Cmd) Run(ctx context.Context, name string, args ...string) error {
	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := exec.CommandContext(sigCtx, name, args...)
	ownGroup(cmd)
	cmd.WaitDelay = childWaitDelay
	// Marked: a helper this child starts refuses the aws login, whose
	// keys could then be this run's own (internal/awslogin).
	cmd.Env, cmd.Stdout, cmd.Stderr = awslogin.MarkEnv(c.Env), c.Stdout, c.Stderr
	err := cmd.Run()
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Msg: fmt.Sprintf("%s did not answer within --timeout (%s)", c.What, c.Timeout),
			Hint: c.Hint, Err: ctx.Err()}
	case ctx.Err() != nil:
		// Not the deadline: the run itself is ending (a signal, its caller).
		return &Error{Msg: c.What + " was stopped: the run was interrupted", Err: ctx.Err()}
	case sigCtx.Err() != nil:
		return &Error{Msg: c.What + " was stopped: interrupted by a signal", Err: context.Canceled}
	case errors.Is(err, exec.ErrWaitDelay):
		// The child itself succeeded; something it left running kept its
		// output open and has been cut off. Its output is judged as it is.
		return nil
	}
	return err
}
