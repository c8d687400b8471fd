package process

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

// child is a program a run starts and waits for: the token helper, the
// mfa_command. Both run the same way, bounded by the run's context.
type child struct {
	what    string        // names it in errors: "token helper /usr/local/bin/h", "mfa_command"
	timeout time.Duration // the run's --timeout, which the context counts down
	hint    string        // what to do when it did not answer in time
	env     []string      // nil: this process's environment
	stdout  io.Writer
	stderr  io.Writer
}

// run runs name with args in a process group of its own. When ctx ends, the
// whole group is killed, not the child alone: a pipeline such as
// `sleep 15 | cat` would otherwise keep the output pipe, and with it the
// run, alive past --timeout. It then returns an *Error saying that c.what
// did not answer in time; any other error comes back as exec returned it,
// for the caller to explain.
//
// While the child runs, SIGINT and SIGTERM end it instead of this process:
// in a group of its own the child no longer gets the terminal's Ctrl-C, and
// would outlive the run. Only runs that start a child pay for the handler.
func (c *child) run(ctx context.Context, name string, args ...string) error {
	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := exec.CommandContext(sigCtx, name, args...)
	ownGroup(cmd)
	cmd.WaitDelay = childWaitDelay
	// Marked: a helper this child starts refuses the aws login, whose
	// keys could then be this run's own (internal/awslogin).
	cmd.Env, cmd.Stdout, cmd.Stderr = awslogin.MarkEnv(c.env), c.stdout, c.stderr
	err := cmd.Run()
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Code: ExitFailure, Msg: fmt.Sprintf("%s did not answer within --timeout (%s)", c.what, c.timeout),
			Hint: c.hint, Err: ctx.Err()}
	case ctx.Err() != nil:
		// Not the deadline: the run itself is ending (a signal, its caller).
		return &Error{Code: ExitFailure, Msg: c.what + " was stopped: the run was interrupted", Err: ctx.Err()}
	case sigCtx.Err() != nil:
		return &Error{Code: ExitFailure, Msg: c.what + " was stopped: interrupted by a signal", Err: context.Canceled}
	case errors.Is(err, exec.ErrWaitDelay):
		// The child itself succeeded; something it left running kept its
		// output open and has been cut off. Its output is judged as it is.
		return nil
	}
	return err
}
