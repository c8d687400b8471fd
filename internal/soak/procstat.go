package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sample is serve's resident memory and open file descriptors at one time,
// from /proc (Linux).
type sample struct {
	at     time.Time
	rssKiB int64
	fds    int
	kinds  string // what the open files are, taken at the baseline and the end only
}

// sampler samples serve every second, and on demand.
type sampler struct {
	pid     int
	mu      sync.Mutex
	samples []sample
	base    *sample // after the warm-up
	last    *sample // at the end, before serve stops
	err     error   // the first failure to read /proc
}

func newSampler(pid int) *sampler { return &sampler{pid: pid} }

func (sm *sampler) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		sm.take()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// take reads one sample and keeps it.
func (sm *sampler) take() *sample {
	sa, err := readProc(sm.pid)
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if err != nil {
		if sm.err == nil {
			sm.err = err
		}
		return nil
	}
	sm.samples = append(sm.samples, sa)
	return &sa
}

// mark takes the baseline.
func (sm *sampler) mark() { sm.keep(&sm.base) }

// final takes the last sample.
func (sm *sampler) final() { sm.keep(&sm.last) }

// keep takes a sample with the kinds of the open files, for comparing, into
// *into.
func (sm *sampler) keep(into **sample) {
	sa := sm.take()
	if sa != nil {
		sa.kinds = fdKinds(sm.pid)
	}
	sm.mu.Lock()
	*into = sa
	sm.mu.Unlock()
}

// peak is the largest RSS and the most open files sampled in [from, to].
func (sm *sampler) peak(from, to time.Time) (rssKiB int64, fds int) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	for _, sa := range sm.samples {
		if sa.at.Before(from) || sa.at.After(to) {
			continue
		}
		rssKiB, fds = max(rssKiB, sa.rssKiB), max(fds, sa.fds)
	}
	return rssKiB, fds
}

// readProc reads VmRSS from /proc/PID/status and counts /proc/PID/fd.
func readProc(pid int) (sample, error) {
	sa := sample{at: time.Now()}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return sa, err
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			sa.rssKiB, err = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return sa, fmt.Errorf("/proc/%d/status: VmRSS %q: %w", pid, v, err)
			}
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return sa, err
	}
	sa.fds = len(fds)
	return sa, nil
}

// tcpStates names the states of /proc/net/tcp.
var tcpStates = map[string]string{"01": "established", "02": "syn-sent", "03": "syn-recv", "04": "fin-wait1",
	"05": "fin-wait2", "06": "time-wait", "07": "close", "08": "close-wait", "09": "last-ack", "0A": "listen", "0B": "closing"}

// fdKinds says what a process's open files are, for the report: TCP
// sockets by state and direction (accepted by serve, or its own to Vault),
// and the rest by kind. Best effort: "" when /proc cannot say.
func fdKinds(pid int) string {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return ""
	}
	sockets := tcpSockets(pid)
	counts := map[string]int{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		kind, _, _ := strings.Cut(link, ":")
		switch {
		case strings.HasPrefix(link, "socket:["):
			if k, ok := sockets[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")]; ok {
				kind = k
			}
		case strings.HasPrefix(link, "anon_inode:"):
			kind = link
		case strings.HasPrefix(link, "/"):
			kind = "file"
		}
		counts[kind]++
	}
	var parts []string
	for k, n := range counts {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// tcpSockets maps the inodes of the TCP sockets in pid's network namespace
// to "tcp STATE in" (a connection to a listening port of the process, or
// the listener) or "tcp STATE out".
func tcpSockets(pid int) map[string]string {
	out := map[string]string{}
	var lines []string
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err == nil {
			lines = append(lines, strings.Split(string(b), "\n")[1:]...)
		}
	}
	listening := map[string]bool{}
	type sock struct{ local, state, inode string }
	var socks []sock
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 10 {
			continue
		}
		_, port, _ := strings.Cut(f[1], ":")
		socks = append(socks, sock{port, f[3], f[9]})
		if f[3] == "0A" {
			listening[port] = true
		}
	}
	for _, s := range socks {
		dir := "out"
		if listening[s.local] {
			dir = "in"
		}
		out[s.inode] = "tcp " + tcpStates[s.state] + " " + dir
	}
	return out
}
