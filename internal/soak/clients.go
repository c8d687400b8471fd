package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/runbin"
	"github.com/vault-credential-process/vault-credential-process/internal/server"
	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// callTimeout bounds one call of a client; a client silent for longer is
// counted as failed and no longer asked.
const callTimeout = 2 * time.Minute

// client is one long-running SDK client for one profile: one STS client in
// one process, asked for one GetCallerIdentity per line on its stdin
// (tools/awsgo -serve, tools/awspy); it answers one JSON line each.
type client struct {
	sdk, profile string
	cmd          *exec.Cmd
	stdin        io.WriteCloser
	lines        chan string // stdout, line by line; closed at its end
	once         sync.Once
}

// identity is a client's answer.
type identity struct {
	Arn         string `json:"Arn"`
	AccessKeyID string `json:"AccessKeyId"`
	Error       string `json:"Error"`
}

// startClients starts both SDKs' clients for every profile and a loop
// calling each every interval. A client that cannot start is a failed call.
func (s *soak) startClients(ctx context.Context) {
	sdks := []struct {
		name string
		argv []string
	}{
		{"aws-sdk-go-v2", []string{s.awsgo, "-profile", "vcp", "-serve", "-timeout", "1m"}},
		{"boto3", []string{"python3", s.awspy, "--profile", "vcp"}},
	}
	for i, p := range profiles {
		for j, sdk := range sdks {
			c, err := s.startClient(sdk.name, p.name, sdk.argv)
			if err != nil {
				now := time.Now()
				s.rec.addCall(call{at: now, end: now, sdk: sdk.name, profile: p.name, err: "start the client: " + err.Error()})
				continue
			}
			s.clients = append(s.clients, c)
			// Spread the calls over the interval, so the server sees a
			// steady stream rather than bursts.
			offset := s.o.interval * time.Duration(i*len(sdks)+j) / time.Duration(len(profiles)*len(sdks))
			s.bg.Add(1)
			go func() {
				defer s.bg.Done()
				s.callLoop(ctx, c, offset)
			}()
		}
	}
}

func (s *soak) startClient(sdk, profile string, argv []string) (*client, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = testbed.ChildAttr()
	cmd.Env = append(s.bed.AWSEnv(s.clientConfig),
		runbin.EnvFullURI+"="+server.URL(s.serve.Host, profile),
		runbin.EnvTokenFile+"="+s.serve.TokenFile)
	logFile, err := os.OpenFile(filepath.Join(s.dir, "clients", sdk+"-"+profile+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd.Stderr = logFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &client{sdk: sdk, profile: profile, cmd: cmd, stdin: stdin, lines: make(chan string)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c, nil
}

// callLoop asks c for one call every interval until ctx ends or the client
// stops answering.
func (s *soak) callLoop(ctx context.Context, c *client, offset time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(offset):
	}
	tick := time.NewTicker(s.o.interval)
	defer tick.Stop()
	for {
		cl := call{at: time.Now(), sdk: c.sdk, profile: c.profile}
		ok := c.call(ctx, &cl)
		cl.end = time.Now()
		if ctx.Err() != nil {
			return // a call cut short by the end is no result
		}
		s.rec.addCall(cl)
		if !ok {
			logf("%s %s: %s; no more calls from it", c.sdk, c.profile, cl.err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// call makes one call; false means the client is gone or hung.
func (c *client) call(ctx context.Context, cl *call) bool {
	if _, err := io.WriteString(c.stdin, "\n"); err != nil {
		cl.err = "the client's stdin: " + err.Error()
		return false
	}
	t := time.NewTimer(callTimeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		cl.err = fmt.Sprintf("no answer within %s", callTimeout)
		return false
	case line, open := <-c.lines:
		if !open {
			cl.err = "the client exited"
			return false
		}
		var id identity
		if err := json.Unmarshal([]byte(line), &id); err != nil {
			cl.err = fmt.Sprintf("unreadable answer %q", line)
			return true
		}
		cl.arn, cl.key, cl.err = id.Arn, id.AccessKeyID, id.Error
		return true
	}
}

// stop ends the client: the end of stdin, then a kill if it lingers.
func (c *client) stop() {
	c.once.Do(func() {
		_ = c.stdin.Close()
		done := make(chan struct{})
		go func() {
			for range c.lines {
			}
			_ = c.cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-done
		}
	})
}
