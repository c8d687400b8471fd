package main

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// TestExcused: a failed call is the server's promise only inside an outage's
// window (its length plus recovery) and when the probe found the profile
// empty (503) close to it; a flood excuses nothing.
func TestExcused(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	r := newRecorder()
	r.faults = []fault{
		{name: "restart Vault", start: at(100), end: at(115), excusable: true},
		{name: floodName, start: at(300), end: at(315)},
	}
	r.probes = []probe{
		{at: at(110), profile: "iam", status: 503},
		{at: at(110), profile: "assume", status: 200},
		{at: at(158), profile: "iam", status: 503},
		{at: at(200), profile: "iam", status: 503},
		{at: at(305), profile: "iam", status: 503},
		{at: at(120), profile: "static", status: 500},
	}
	tests := []struct {
		name    string
		c       call
		excused bool
	}{
		{"in the outage, profile empty", call{at: at(112), profile: "iam"}, true},
		{"in the outage, the probe got 200", call{at: at(112), profile: "assume"}, false},
		{"in the recovery, profile empty", call{at: at(156), profile: "iam"}, true},
		{"a long call ending near an empty probe", call{at: at(140), end: at(155), profile: "iam"}, true},
		{"after the recovery", call{at: at(201), profile: "iam"}, false},
		{"during a flood", call{at: at(305), profile: "iam"}, false},
		{"in the outage, the probe got 500, not 503", call{at: at(120), profile: "static"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.c.end.IsZero() {
				tt.c.end = tt.c.at
			}
			if got := r.excused(tt.c); got != tt.excused {
				t.Errorf("excused = %v, want %v", got, tt.excused)
			}
		})
	}
}

func TestMarkDeadKeepsTheFirstTime(t *testing.T) {
	r := newRecorder()
	first := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	if got := r.markDead("AKIA1", first); !got.Equal(first) {
		t.Fatalf("first markDead = %v, want %v", got, first)
	}
	if got := r.markDead("AKIA1", first.Add(time.Minute)); !got.Equal(first) {
		t.Errorf("second markDead = %v, want the first time %v", got, first)
	}
	if !r.isDead("AKIA1") || r.isDead("AKIA2") {
		t.Errorf("isDead: AKIA1 %v (want true), AKIA2 %v (want false)", r.isDead("AKIA1"), r.isDead("AKIA2"))
	}
}

func TestReadProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sa, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// stdin, stdout, stderr and the file just opened at least.
	if sa.rssKiB <= 0 || sa.fds < 4 {
		t.Errorf("readProc = %d KiB, %d fds; want both above zero, at least 4 fds", sa.rssKiB, sa.fds)
	}
}

// TestProbeFailed: only a 503 inside an outage's window is the server's
// promise; any other refusal, or a 200 without credentials, is a failure.
func TestProbeFailed(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	r := newRecorder()
	r.faults = []fault{{name: "seal and unseal Vault", start: t0, end: t0.Add(10 * time.Second), excusable: true}}
	in, out := t0.Add(5*time.Second), t0.Add(10*time.Second+recovery+time.Second)
	tests := []struct {
		name   string
		p      probe
		failed bool
	}{
		{"200", probe{at: out, status: 200}, false},
		{"503 in the outage", probe{at: in, status: 503}, false},
		{"503 outside", probe{at: out, status: 503}, true},
		{"500 in the outage", probe{at: in, status: 500}, true},
		{"no answer in the outage", probe{at: in, err: "connection refused"}, true},
		{"200 without credentials", probe{at: out, status: 200, err: "a 200 without credentials"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.probeFailed(tt.p); got != tt.failed {
				t.Errorf("probeFailed = %v, want %v", got, tt.failed)
			}
		})
	}
}

// TestGroup: alike failures at most runGap apart make one run, also when
// another kind comes between them; a longer pause starts a new run.
func TestGroup(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	runs := group([]failure{
		{at(0), "a"}, {at(1), "b"}, {at(2), "a"}, {at(7), "a"}, // a: 0..7, gaps of 2 and 5
		{at(13), "a"}, // 6 s after the last: a new run
		{at(3), "b"},  // out of order: sorted first
	})
	want := []failRun{
		{first: at(0), last: at(7), n: 3, what: "a"},
		{first: at(1), last: at(3), n: 2, what: "b"},
		{first: at(13), last: at(13), n: 1, what: "a"},
	}
	if len(runs) != len(want) {
		t.Fatalf("group = %+v, want %+v", runs, want)
	}
	for i := range want {
		if runs[i] != want[i] {
			t.Errorf("run %d = %+v, want %+v", i, runs[i], want[i])
		}
	}
}
