package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// The schedule: a warm-up, then the faults one after another with quiet
// gaps between them, as many passes as fit, and a quiet end before the last
// measurement: a sixth of the run, at least quietEnd, so that a long run
// ends in a steady state (vault/api keeps an idle connection 90 s).
const (
	warmUp   = 20 * time.Second
	quietEnd = 30 * time.Second
	minGap   = 10 * time.Second
	maxGap   = 45 * time.Second
	// recovery follows an excusable fault's end: the server's refresher
	// waits up to 30 s between attempts after failures, so a profile may
	// stay empty that long after Vault is back.
	recovery = 45 * time.Second

	outage    = 10 * time.Second // Vault stopped, or sealed
	hangFor   = 15 * time.Second // Vault stopped with SIGSTOP
	relogin   = 20 * time.Second // from the revocation to a new token in ~/.vault-token
	floodHold = 10 * time.Second // the flood's connections stay open this long
)

const floodName = "flood of unauthenticated connections"

// faultSpec is one kind of fault.
type faultSpec struct {
	name      string
	length    time.Duration // about how long it takes, for the plan
	excusable bool          // see fault.excusable
	do        func(ctx context.Context, f *fault) error
}

func (s *soak) faultSpecs() []faultSpec {
	return []faultSpec{
		// The flood first: its window then overlaps no outage's, whose
		// empty profiles would blur what it measures.
		{floodName, floodHold + 5*time.Second, false, s.flood},
		{"revoke the token that minted the credentials", relogin, true, s.revoke},
		{"restart Vault", outage + 5*time.Second, true, s.restart},
		{"seal and unseal Vault", outage + 2*time.Second, true, s.seal},
		{"hang Vault (SIGSTOP, SIGCONT)", hangFor, true, s.hang},
	}
}

// soak runs the schedule until the duration is over.
func (s *soak) soak(ctx context.Context) {
	end := s.rec.start.Add(s.o.duration)
	faultsEnd := end.Add(-max(quietEnd, s.o.duration/6))
	sleep(ctx, time.Until(s.rec.start.Add(warmUp)))
	s.stats.mark()
	specs := s.faultSpecs()
	for pass := 0; ctx.Err() == nil; pass++ {
		if pass > 0 && time.Until(faultsEnd) < planned(specs)+time.Duration(len(specs))*minGap {
			break
		}
		for i, spec := range specs {
			left := time.Until(faultsEnd)
			if left < spec.length+minGap || ctx.Err() != nil {
				break
			}
			gap := (left - planned(specs[i:])) / time.Duration(len(specs)-i)
			gap = min(max(gap, minGap), maxGap)
			if !s.runFault(ctx, spec) {
				logf("a fault could not be made or undone: no more faults")
				sleep(ctx, time.Until(end))
				s.stats.final()
				return
			}
			sleep(ctx, gap)
		}
	}
	sleep(ctx, time.Until(end))
	// Measured while the clients still run, as after the warm-up.
	s.stats.final()
}

func planned(specs []faultSpec) time.Duration {
	var d time.Duration
	for _, s := range specs {
		d += s.length
	}
	return d
}

// runFault makes one fault and records it; false if it failed.
func (s *soak) runFault(ctx context.Context, spec faultSpec) bool {
	f := fault{name: spec.name, excusable: spec.excusable, start: time.Now()}
	logf("%s: %s", s.rec.since(f.start), spec.name)
	err := spec.do(ctx, &f)
	f.end = time.Now()
	if err != nil && ctx.Err() == nil {
		f.err = err
		logf("%s: %v", spec.name, err)
	}
	s.rec.addFault(f)
	return f.err == nil
}

// revoke revokes serve's token as an administrator would (Vault revokes its
// leases and deletes their IAM users), leaves it in ~/.vault-token for a
// while, then writes a new one there, as `vault login` does.
func (s *soak) revoke(ctx context.Context, f *fault) error {
	s.tokenMu.Lock()
	old := s.token
	s.tokenMu.Unlock()
	if err := s.vault.Request(ctx, "POST", "auth/token/revoke", map[string]any{"token": old}, nil); err != nil {
		return fmt.Errorf("revoke the token: %w", err)
	}
	sleep(ctx, relogin)
	token, err := s.newToken(ctx)
	if err == nil {
		err = s.writeToken(token)
	}
	if err != nil {
		return err
	}
	s.tokenMu.Lock()
	s.token = token
	s.tokenMu.Unlock()
	f.note = fmt.Sprintf("a new token in ~/.vault-token %s later", relogin)
	return nil
}

func (s *soak) restart(ctx context.Context, f *fault) error {
	f.note = fmt.Sprintf("SIGTERM, down %s, started and unsealed", outage)
	return s.vault.Restart(ctx, outage)
}

func (s *soak) seal(ctx context.Context, f *fault) error {
	if err := s.vault.Seal(ctx); err != nil {
		return err
	}
	sleep(ctx, outage)
	f.note = fmt.Sprintf("sealed for %s", outage)
	// Unsealed even after an interrupt: the Vault is stopped next anyway,
	// but an error here is worth seeing.
	return s.vault.Unseal(context.WithoutCancel(ctx))
}

func (s *soak) hang(ctx context.Context, f *fault) error {
	pid := s.vault.PID()
	if err := pause(pid); err != nil {
		return err
	}
	sleep(ctx, hangFor)
	f.note = fmt.Sprintf("stopped for %s", hangFor)
	return resume(pid)
}

// flood opens up to -flood connections to serve, each sending a request
// without the token, holds them floodHold, and closes them.
func (s *soak) flood(ctx context.Context, f *fault) error {
	n := min(s.o.flood, fdBudget())
	linesBefore := countLines(s.serveLog)
	conns, failed := openFlood(ctx, s.serve.Host, n)
	sleep(ctx, floodHold)
	for _, c := range conns {
		_ = c.Close()
	}
	f.logLines = countLines(s.serveLog) - linesBefore
	f.note = fmt.Sprintf("%d of %d connections open for %s (%d refused or failed)", len(conns), n, floodHold, failed)
	if len(conns) == 0 {
		return errors.New("the flood could not open a single connection")
	}
	return nil
}

// openFlood opens n connections, 64 at a time, within 20 seconds.
func openFlood(ctx context.Context, host string, n int) (conns []net.Conn, failed int) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	request := []byte("GET /creds/iam HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: soak-flood\r\n\r\n")
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	d := net.Dialer{Timeout: 5 * time.Second}
	for range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := d.DialContext(ctx, "tcp", host)
			if err == nil {
				_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err = c.Write(request); err != nil {
					_ = c.Close()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				return
			}
			conns = append(conns, c)
		}()
	}
	wg.Wait()
	return conns, failed
}

// countLines counts the lines of a log file (0 if it cannot be read).
func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte{'\n'})
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
