package server

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// The server's log: written in the background, so that a request never
// waits on a blocked stderr, and with refusals rate-limited, so that a
// client without the token cannot fill a disk or a journal with them.

// Bounds of the log.
const (
	// maxQueuedLines is how many lines may wait for a slow or blocked
	// stderr; past it lines are dropped and counted.
	maxQueuedLines = 1024
	// refusalBurst is how many refused requests a second get a line each;
	// past it they are only counted, by reason.
	refusalBurst = 5
	// summaryInterval is how often the counts are written as one line.
	summaryInterval = 10 * time.Second
	// logFlushTimeout bounds the wait for the queue to drain, at the end of
	// Warm and Serve, on a stderr nobody reads.
	logFlushTimeout = time.Second
)

// asyncLog writes lines to their writers from a goroutine of its own,
// which runs only while lines wait. It keeps at most max of them: past
// that a line is dropped and counted, and the count is written once the
// writer has caught up.
type asyncLog struct {
	mu      sync.Mutex
	max     int
	queue   []logLine
	dropped int
	dropW   io.Writer     // the writer of the last dropped line
	done    chan struct{} // while a drainer runs: closed when it ends
}

type logLine struct {
	w    io.Writer
	text string
}

func newAsyncLog(max int) *asyncLog { return &asyncLog{max: max} }

// write queues text for w and returns at once.
func (l *asyncLog) write(w io.Writer, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queue) >= l.max {
		l.dropped++
		l.dropW = w
		return
	}
	l.queue = append(l.queue, logLine{w, text})
	if l.done == nil {
		l.done = make(chan struct{})
		go l.drain(l.done)
	}
}

// drain writes the queued lines, one at a time and without the lock held
// (the write is what may block), until none is left.
func (l *asyncLog) drain(done chan struct{}) {
	for {
		l.mu.Lock()
		var next logLine
		switch {
		case len(l.queue) > 0:
			next = l.queue[0]
			l.queue[0] = logLine{}
			l.queue = l.queue[1:]
		case l.dropped > 0:
			next = logLine{l.dropW, prefix + fmt.Sprintf("%d log lines dropped: stderr did not keep up\n", l.dropped)}
			l.dropped = 0
		default:
			l.queue = nil // let go of the array a burst grew
			l.done = nil
			l.mu.Unlock()
			close(done)
			return
		}
		l.mu.Unlock()
		_, _ = io.WriteString(next.w, next.text)
	}
}

// flush waits until the lines queued so far are written, at most timeout.
func (l *asyncLog) flush(timeout time.Duration) {
	l.mu.Lock()
	done := l.done
	l.mu.Unlock()
	if done == nil {
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// prefix starts every line of the server's log.
const prefix = "vault-credential-process: serve: "

// RefusalLog decides which refusals (or other events a client can cause
// at will) get a line of their own: at most refusalBurst a second. The
// others are counted by reason until summary says how many there were.
type RefusalLog struct {
	mu      sync.Mutex
	second  time.Time // start of the current one-second window
	lines   int       // refusals logged in it
	since   time.Time // start of the period summary covers
	counted map[string]int
}

// Allow reports whether the refusal for reason at now gets a line; if not,
// it is counted.
func (r *RefusalLog) Allow(now time.Time, reason string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.since.IsZero() {
		r.since = now
	}
	// A clock set back starts a new window too.
	if d := now.Sub(r.second); d >= time.Second || d < 0 {
		r.second, r.lines = now, 0
	}
	if r.lines < refusalBurst {
		r.lines++
		return true
	}
	if r.counted == nil {
		r.counted = map[string]int{}
	}
	r.counted[reason]++
	return false
}

// Summary is the line on what was counted since the last summary (what
// names it), "" when nothing was; it starts the next period.
func (r *RefusalLog) Summary(now time.Time, what string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	period := now.Sub(r.since)
	r.since = now
	if len(r.counted) == 0 {
		return ""
	}
	total := 0
	reasons := make([]string, 0, len(r.counted))
	for reason, n := range r.counted {
		total += n
		reasons = append(reasons, fmt.Sprintf("%s=%d", reason, n))
	}
	sort.Strings(reasons)
	r.counted = nil
	return fmt.Sprintf("%d %s in the last %s not logged one by one (more than %d a second): %s",
		total, what, roundDuration(period), refusalBurst, strings.Join(reasons, " "))
}

// roundDuration makes d short to read: what a log line says of a wait or a
// lifetime needs no nanoseconds (10.000834014s is 10s).
func roundDuration(d time.Duration) time.Duration {
	switch a := d.Abs(); {
	case a < time.Millisecond:
		return d.Round(time.Microsecond)
	case a < time.Second:
		return d.Round(time.Millisecond)
	case a < time.Minute:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Second)
	}
}

// roundDurations is args with every time.Duration rounded.
func roundDurations(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if d, ok := a.(time.Duration); ok {
			a = roundDuration(d)
		}
		out[i] = a
	}
	return out
}
