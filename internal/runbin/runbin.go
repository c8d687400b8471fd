// Package runbin builds the product and the client programs, and runs the
// product's credentials server as a child process, for the programs that
// measure it from outside: make bench (internal/bench) and make soak
// (internal/soak). The tests of the root package have their own harness.
package runbin

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// Build runs `go build -trimpath -ldflags "-s -w" -o out pkg` in dir ("" for
// the current folder) with CGO_ENABLED=0, as a release build.
func Build(dir, pkg, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (in %q): %v\n%s", pkg, dir, err, b)
	}
	return nil
}

// The variables serve --print-env sets.
const (
	EnvFullURI   = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	EnvTokenFile = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
)

// Serve is a running `serve --print-env`.
type Serve struct {
	Cmd       *exec.Cmd
	URI       string // AWS_CONTAINER_CREDENTIALS_FULL_URI: the first profile's
	Host      string // host:port it listens on
	TokenFile string // AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
	Token     string // the authorization token, from TokenFile
	done      chan struct{}
	err       error
}

var exportLine = regexp.MustCompile(`^export ([A-Z_0-9]+)='([^']*)'$`)

// StartServe starts `bin serve --print-env args...` with env, its stderr to
// stderr (nil: discarded), and returns once it has printed the variables,
// which it does once it listens.
func StartServe(bin string, env []string, stderr io.Writer, args ...string) (*Serve, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--print-env"}, args...)...)
	cmd.Env = env
	cmd.Stderr = stderr
	// Its own process group, killed with this process: a Ctrl-C meant for
	// the measuring program is its to pass on, and it leaves no server behind.
	cmd.SysProcAttr = testbed.ChildAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start serve: %w", err)
	}
	s := &Serve{Cmd: cmd, done: make(chan struct{})}
	vars := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for (vars[EnvFullURI] == "" || vars[EnvTokenFile] == "") && sc.Scan() {
		if m := exportLine.FindStringSubmatch(sc.Text()); m != nil {
			vars[m[1]] = m[2]
		}
	}
	// The rest of stdout (comments naming further profiles) is not needed,
	// but must not fill the pipe.
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		s.err = cmd.Wait()
		close(s.done)
	}()
	if vars[EnvFullURI] == "" || vars[EnvTokenFile] == "" {
		<-s.done
		return nil, fmt.Errorf("serve exited (%v) before printing %s and %s", s.err, EnvFullURI, EnvTokenFile)
	}
	s.URI, s.TokenFile = vars[EnvFullURI], vars[EnvTokenFile]
	u, err := url.Parse(s.URI)
	if err == nil {
		s.Host = u.Host
		var token []byte
		if token, err = os.ReadFile(s.TokenFile); err == nil {
			s.Token = string(token)
		}
	}
	if err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("serve: %w", err)
	}
	return s, nil
}

// PID is the server's process id.
func (s *Serve) PID() int { return s.Cmd.Process.Pid }

// Stop ends the server with SIGINT, as Ctrl-C does, and returns its exit
// status; after 15 seconds it kills it.
func (s *Serve) Stop() error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	_ = s.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.Cmd.Process.Kill()
		<-s.done
		return errors.New("serve did not exit within 15 s of SIGINT: killed")
	}
	return s.err
}
