// Package tty talks to the user at the terminal itself: the AWS clients
// give a credential process no usable stdin and hide its stderr, so an MFA
// code or a Vault password is asked for on the controlling terminal. It
// owns opening that terminal and reading a line or a password from it
// within a context.
package tty

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"runtime"

	"golang.org/x/term"
)

// Open opens the controlling terminal for reading and writing. Without one
// (a CI job, a service, Windows) it fails, and the caller says where else
// the answer may come from.
func Open() (*os.File, error) {
	if runtime.GOOS == "windows" {
		return nil, errors.New("no terminal prompt on Windows")
	}
	return os.OpenFile("/dev/tty", os.O_RDWR, 0)
}

type answer struct {
	line string
	err  error
}

// ReadLine reads one line typed at r, giving up when ctx ends (the reading
// goroutine is left behind; the process is about to exit).
func ReadLine(ctx context.Context, r io.Reader) (string, error) {
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		ch <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case a := <-ch:
		return a.line, a.err
	}
}

// ReadPassword writes prompt to the terminal f and reads a line from it
// without echo (golang.org/x/term turns it off as the prompt goes out),
// giving up when ctx ends. The terminal is put back as it was in every
// case, a timeout included.
func ReadPassword(ctx context.Context, f *os.File, prompt string) (string, error) {
	fd := int(f.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	restore := func() { _ = term.Restore(fd, state) }
	ch := make(chan answer, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		b, err := term.ReadPassword(fd)
		ch <- answer{string(b), err}
	}()
	<-started
	if _, err := io.WriteString(f, prompt); err != nil {
		restore()
		return "", err
	}
	select {
	case <-ctx.Done():
		// term.ReadPassword is still blocked and will not restore the
		// terminal before the process exits: do it here.
		restore()
		_, _ = io.WriteString(f, "\n")
		return "", ctx.Err()
	case a := <-ch:
		_, _ = io.WriteString(f, "\n")
		return a.line, a.err
	}
}
