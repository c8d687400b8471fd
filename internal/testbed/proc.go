package testbed

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// proc is one child process of the bed, its output going to a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // Wait's result; read only after done is closed
}

// startProc starts name in its own process group (so that Stop reaches whatever it
// spawns, and a Ctrl-C meant for `go test` does not race Stop) with output appended to log.
func startProc(name, log string, env []string, path string, args ...string) (*proc, error) {
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	defer f.Close() // the child has its own descriptor

	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdin = nil
	// An *os.File, not a pipe: Wait then returns when the process exits, whatever its
	// children keep open.
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill kills the process group and waits for the process to be reaped.
func (p *proc) kill() error {
	if !p.exited() {
		killGroup(p.cmd.Process)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(15 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// tail returns the last lines of the process's log, for error messages.
func (p *proc) tail() string {
	return logTail(p.log, 20, 4096)
}

// logTail returns up to maxLines lines from the last maxBytes of the file at path.
func logTail(path string, maxLines int, maxBytes int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxBytes {
		if _, err := f.Seek(-maxBytes, io.SeekEnd); err != nil {
			return fmt.Sprintf("(read log: %v)", err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(read log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return "(log is empty)"
	}
	return string(bytes.TrimSpace([]byte(strings.Join(lines, "\n"))))
}

// ChildAttr is the process attributes the bed gives its servers (its own process
// group; on Linux, killed when the test process dies), for tests that start a helper
// process that may outlive a failing or interrupted test.
func ChildAttr() *syscall.SysProcAttr { return sysProcAttr() }
