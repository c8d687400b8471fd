package main

import (
	"sync"
	"time"
)

// recorder keeps what the clients, the probes and the faults saw, for the
// report. Every method is safe for concurrent use.
type recorder struct {
	mu      sync.Mutex
	start   time.Time // serve was listening
	calls   []call
	probes  []probe
	faults  []fault
	deadAt  map[string]time.Time // access key -> when moto was first seen not to know it
	secrets map[string]bool      // secret keys and session tokens served, for the log check

	serveExit      error // serve's exit status at the end
	serveExitKnown bool
}

// call is one GetCallerIdentity of an SDK client through the server.
type call struct {
	at, end  time.Time // asked, answered
	sdk      string
	profile  string
	arn, key string // the identity STS saw and the key the SDK signed with
	err      string
}

// probe is one request of the soak's own to the server.
type probe struct {
	at      time.Time
	profile string
	status  int    // 0: no HTTP answer
	err     string // transport or decoding error, or the refusal's body
	key     string
	exp     time.Time
	expired bool          // 200 with an Expiration not after at, when it was asked
	dead    bool          // 200 with a key moto no longer knows
	deadFor time.Duration // how long moto had not known it
}

// fault is one deliberate disturbance and its window.
type fault struct {
	name       string
	start, end time.Time
	// excusable: Vault is down (or the token dead) during the window, so a
	// profile may be left with nothing valid to serve; a 503 then is the
	// server's promise, not a failure. A flood is not: valid requests must
	// be served through it.
	excusable bool
	note      string // what happened, for the report
	err       error  // the fault could not be made or undone
	logLines  int    // lines serve logged during a flood
}

func newRecorder() *recorder {
	return &recorder{deadAt: map[string]time.Time{}, secrets: map[string]bool{}}
}

func (r *recorder) addCall(c call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) addProbe(p probe) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.probes = append(r.probes, p)
}

func (r *recorder) addFault(f fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, f)
}

func (r *recorder) addSecret(v string) {
	if v == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[v] = true
}

// markDead records that moto did not know key at t, and returns since when.
func (r *recorder) markDead(key string, t time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.deadAt[key]; ok {
		return at
	}
	r.deadAt[key] = t
	return t
}

func (r *recorder) isDead(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.deadAt[key]
	return ok
}

// since is t as an offset from the start, for the report.
func (r *recorder) since(t time.Time) string {
	return t.Sub(r.start).Round(time.Second).String()
}
