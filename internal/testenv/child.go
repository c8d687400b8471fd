package testenv

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"testing"
	"time"
)

// Helpers for the tests of programs a run starts (internal/child, the
// mfa_command, the token helper): does the child's whole group die?

// Pipeline is a child's shell command that starts grandchildren holding its
// output (the shell runs both sides of the pipe), says so on stderr, and
// would run for 30 s.
const Pipeline = "sleep 30 | (echo started >&2; cat)"

// GroupWatch watches a child's process group through a pipe: its write end is the
// child's stderr, which the child's children inherit, and the read end sees EOF only
// once every process holding the write end has exited.
type GroupWatch struct {
	W       *os.File
	r       *os.File
	out     *bufio.Reader
	started bool
}

// WatchGroup makes a GroupWatch; its W is to be the child's stderr.
func WatchGroup(t testing.TB) *GroupWatch {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	// A failure bound, not a timing assert: a survivor holds the pipe until its
	// `sleep 30` ends.
	r.SetReadDeadline(time.Now().Add(15 * time.Second))
	return &GroupWatch{W: w, r: r, out: bufio.NewReader(r)}
}

// WaitStarted returns once the pipeline has started.
func (g *GroupWatch) WaitStarted() error {
	line, err := g.out.ReadString('\n')
	if err != nil || line != "started\n" {
		return fmt.Errorf("the child did not start its pipeline: %q, %v", line, err)
	}
	g.started = true
	return nil
}

// Gone reports whether the child and all its children have exited.
func (g *GroupWatch) Gone() error {
	g.W.Close()
	if !g.started {
		if err := g.WaitStarted(); err != nil {
			return err
		}
	}
	if rest, err := io.ReadAll(g.out); err != nil {
		return fmt.Errorf("still there (%v), after writing %q", err, rest)
	}
	return nil
}

// Within runs f in a goroutine and fails the test if it has not returned 20 s
// later: the bug was a run that ignored its context.
func Within[T any](t testing.TB, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("%s still running 20 s later", what)
		var zero T
		return zero
	}
}
