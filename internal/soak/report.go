package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// Targets besides the zeros.
const (
	// revokedGrace is how long the server may go on serving a key IAM no
	// longer has: it learns of a revocation behind its back by asking Vault
	// in the background, within 30 seconds plus a timeout (docs/security.md, "Revoked keys"): a minute.
	revokedGrace = time.Minute
	// fdSlack is how many more open files serve may have at the end than
	// after the warm-up: the clients' keep-alive connections come and go.
	fdSlack = 8
	// nearProbe is how close to a failed call a probe must have found the
	// profile empty for the failure to be the server's promise.
	nearProbe = 5 * time.Second
)

// row is one line of the result table.
type row struct {
	what, result, target string
	missed               bool
}

// report prints the tables and returns whether a target was missed.
func (s *soak) report(w io.Writer) bool {
	r := s.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	var rows []row
	rows = append(rows, s.callRows()...)
	rows = append(rows, s.probeRows()...)
	rows = append(rows, s.floodRows()...)
	rows = append(rows, s.processRows()...)
	rows = append(rows, s.faultRows()...)

	fmt.Fprintf(w, "\nSoak of `serve` for %s (%s between calls), profiles %s, Vault with file storage beside moto:\n\n",
		s.o.duration, s.o.interval, profileNames())
	fmt.Fprintf(w, "| measure | result | target | met |\n| --- | --- | --- | --- |\n")
	missed := false
	for _, rw := range rows {
		met := "yes"
		switch {
		case rw.target == "":
			met = ""
		case rw.missed:
			met, missed = "**no**", true
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", rw.what, rw.result, rw.target, met)
	}
	s.printFaults(w)
	s.printFailures(w)
	return missed
}

func profileNames() string {
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

// excusable reports whether t lies in an excusable fault's window.
func (r *recorder) excusable(t time.Time) bool {
	for _, f := range r.faults {
		if f.excusable && !t.Before(f.start) && !t.After(f.end.Add(recovery)) {
			return true
		}
	}
	return false
}

// emptyNear reports whether a probe found profile empty (503) during the
// call c, or close to it.
func (r *recorder) emptyNear(c call) bool {
	for _, p := range r.probes {
		if p.profile == c.profile && p.status == 503 && p.at.After(c.at.Add(-nearProbe)) && p.at.Before(c.end.Add(nearProbe)) {
			return true
		}
	}
	return false
}

// excused: a failure inside an excusable fault's window, when the server
// had nothing valid for the profile.
func (r *recorder) excused(c call) bool {
	return r.excusable(c.at) && r.emptyNear(c)
}

// probeFailed: a probe not answered 200 with credentials, unless it was a
// 503 (nothing valid to serve) inside an excusable fault's window.
func (r *recorder) probeFailed(p probe) bool {
	if p.status == 200 && p.err == "" {
		return false
	}
	return p.status != 503 || !r.excusable(p.at)
}

// byProfile counts per profile, as "3 (iam 2, static 1)".
type byProfile map[string]int

func (b byProfile) String() string {
	n := 0
	var parts []string
	for _, p := range profiles {
		if b[p.name] > 0 {
			n += b[p.name]
			parts = append(parts, fmt.Sprintf("%s %d", p.name, b[p.name]))
		}
	}
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}

func (b byProfile) total() int {
	n := 0
	for _, v := range b {
		n += v
	}
	return n
}

func (s *soak) callRows() []row {
	r := s.rec
	bySDK := map[string]int{}
	failed, excused := byProfile{}, byProfile{}
	var deadKey, expiredKey int
	exp := s.expirations()
	for _, c := range r.calls {
		bySDK[c.sdk]++
		switch {
		case c.err != "" && r.excused(c):
			excused[c.profile]++
		case c.err != "":
			failed[c.profile]++
		case c.arn == s.bed.UnknownKeyARN() && revocable(c.profile):
			deadKey++
		}
		if e, ok := exp[c.profile+"/"+c.key]; ok && c.err == "" && c.at.After(e) {
			expiredKey++
		}
	}
	var sdks []string
	for sdk, n := range bySDK {
		sdks = append(sdks, fmt.Sprintf("%s %d", sdk, n))
	}
	sort.Strings(sdks)
	return []row{
		{what: "client calls (GetCallerIdentity through serve)", result: fmt.Sprintf("%d (%s)", len(r.calls), strings.Join(sdks, ", "))},
		{what: "failed client calls, outside the outages with nothing valid to serve", result: failed.String(), target: "0", missed: failed.total() > 0},
		{what: "failed client calls during an outage, the server having nothing valid (503)", result: excused.String()},
		{what: "client calls signed with a key IAM no longer had (the SDK's own cache)", result: fmt.Sprint(deadKey)},
		{what: "client calls signed after the key's Expiration (the SDK's own cache)", result: fmt.Sprint(expiredKey)},
	}
}

func revocable(name string) bool {
	for _, p := range profiles {
		if p.name == name {
			return p.revocable
		}
	}
	return false
}

// expirations is the latest Expiration serve gave each profile's key, from
// the probes and the helper's audit log; keyed "profile/key".
func (s *soak) expirations() map[string]time.Time {
	exp := map[string]time.Time{}
	keep := func(k string, t time.Time) {
		if t.After(exp[k]) {
			exp[k] = t
		}
	}
	for _, p := range s.rec.probes {
		if p.key != "" {
			keep(p.profile+"/"+p.key, p.exp)
		}
	}
	f, err := os.Open(s.helperAudit)
	if err != nil {
		return exp
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var a process.AuditRecord
		if json.Unmarshal(sc.Bytes(), &a) == nil && a.Command == "serve" {
			keep(a.Profile+"/"+a.AccessKeyID, a.Expiration)
		}
	}
	return exp
}

func (s *soak) probeRows() []row {
	non200, excused := byProfile{}, byProfile{}
	var expired, dead, late, ok int
	var longest, least time.Duration
	for _, p := range s.rec.probes {
		if p.status == 200 && p.err == "" {
			if left := p.exp.Sub(p.at); ok == 0 || left < least {
				least = left
			}
			ok++
		}
		switch {
		case s.rec.probeFailed(p):
			non200[p.profile]++
		case p.status != 200:
			excused[p.profile]++
		}
		if p.expired {
			expired++
		}
		if p.dead {
			dead++
			longest = max(longest, p.deadFor)
			if p.deadFor > revokedGrace {
				late++
			}
		}
	}
	return []row{
		{what: "probe requests (each profile every interval, a new connection each)", result: fmt.Sprint(len(s.rec.probes))},
		{what: "probe requests not answered 200, outside the outages", result: non200.String(), target: "0", missed: non200.total() > 0},
		{what: "probe requests answered 503 during an outage", result: excused.String()},
		{what: "200s with expired credentials", result: fmt.Sprint(expired), target: "0", missed: expired > 0},
		{what: "the least validity left in a 200", result: least.Round(time.Millisecond).String()},
		{what: fmt.Sprintf("200s with a key IAM no longer had, more than %s after the probe first saw it gone", revokedGrace),
			result: fmt.Sprint(late), target: "0", missed: late > 0},
		{what: "200s with a key IAM no longer had, in all; the longest it was served after", result: fmt.Sprintf("%d; %s", dead, longest.Round(time.Second))},
	}
}

func (s *soak) floodRows() []row {
	var floods, lines, probes, failed, peakFDs int
	for _, f := range s.rec.faults {
		if f.name != floodName {
			continue
		}
		floods++
		lines += f.logLines
		_, fds := s.stats.peak(f.start, f.end)
		peakFDs = max(peakFDs, fds)
		for _, p := range s.rec.probes {
			if !p.at.Before(f.start) && !p.at.After(f.end) {
				probes++
				if s.rec.probeFailed(p) {
					failed++
				}
			}
		}
	}
	if floods == 0 {
		return []row{{what: "floods", result: "none ran (the soak was too short)", target: "at least 1", missed: true}}
	}
	return []row{
		{what: fmt.Sprintf("probe requests during %d flood(s) of up to %d connections; failed", floods, s.o.flood),
			result: fmt.Sprintf("%d; %d", probes, failed), target: "0 failed", missed: failed > 0},
		{what: "serve's log lines during the floods; its most open files then", result: fmt.Sprintf("%d; %d", lines, peakFDs)},
	}
}

func (s *soak) processRows() []row {
	sm := s.stats
	sm.mu.Lock()
	base, last, perr := sm.base, sm.last, sm.err
	sm.mu.Unlock()
	if base == nil || last == nil {
		return []row{{what: "serve's RSS and open files", result: fmt.Sprintf("not measured: %v", perr), target: "flat", missed: true}}
	}
	peakRSS, peakFDs := sm.peak(base.at, last.at)
	rssLimit := base.rssKiB*3/2 + 4<<10
	rows := []row{
		{what: "serve's RSS: after the warm-up → at the end (peak)", result: fmt.Sprintf("%s → %s (%s)", mib(base.rssKiB), mib(last.rssKiB), mib(peakRSS)),
			target: "end ≤ 1.5 × start + 4 MiB", missed: last.rssKiB > rssLimit},
		{what: "serve's open files: after the warm-up → at the end (peak)", result: fmt.Sprintf("%d → %d (%d)", base.fds, last.fds, peakFDs),
			target: fmt.Sprintf("end ≤ start + %d", fdSlack), missed: last.fds > base.fds+fdSlack},
	}
	if base.kinds != "" || last.kinds != "" {
		rows = append(rows, row{what: "serve's open files after the warm-up; at the end", result: base.kinds + "; " + last.kinds})
	}
	leaked := s.secretsInLog()
	rows = append(rows, row{what: "secrets (keys, session tokens, Vault and server tokens) in serve's stderr", result: fmt.Sprint(leaked), target: "0", missed: leaked != 0})
	exit := "0"
	if s.rec.serveExit != nil {
		exit = s.rec.serveExit.Error()
	}
	rows = append(rows, row{what: "serve's exit at the end (SIGINT)", result: exit, target: "0", missed: s.rec.serveExit != nil || !s.rec.serveExitKnown})
	return rows
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// secretsInLog counts the secrets seen during the soak that serve's log holds.
func (s *soak) secretsInLog() int {
	b, err := os.ReadFile(s.serveLog)
	if err != nil {
		return -1
	}
	secrets := []string{s.serve.Token, s.vault.RootToken}
	s.tokenMu.Lock()
	secrets = append(secrets, s.secrets...)
	s.tokenMu.Unlock()
	for v := range s.rec.secrets {
		secrets = append(secrets, v)
	}
	n := 0
	for _, v := range secrets {
		if v != "" && strings.Contains(string(b), v) {
			n++
		}
	}
	return n
}

func (s *soak) faultRows() []row {
	ran := map[string]int{}
	var failed int
	for _, f := range s.rec.faults {
		ran[f.name]++
		if f.err != nil {
			failed++
		}
	}
	var done, skipped []string
	for _, spec := range s.faultSpecs() {
		if n := ran[spec.name]; n > 0 {
			done = append(done, fmt.Sprintf("%s ×%d", spec.name, n))
		} else {
			skipped = append(skipped, spec.name)
		}
	}
	rows := []row{
		{what: "faults made", result: strings.Join(done, "; ")},
		{what: "faults that could not be made or undone", result: fmt.Sprint(failed), target: "0", missed: failed > 0},
	}
	if len(skipped) > 0 {
		rows = append(rows, row{what: "faults left out for lack of time", result: strings.Join(skipped, "; "), target: "none", missed: true})
	}
	return append(rows, row{what: "wall-clock jump", result: "not made: the binary has no injected clock (the server's unit tests jump theirs)"})
}

// printFaults lists the faults with their windows.
func (s *soak) printFaults(w io.Writer) {
	fmt.Fprintf(w, "\nFaults (times from serve's start; an outage's window runs %s past its end):\n\n", recovery)
	fmt.Fprintf(w, "| at | fault | took | what happened |\n| --- | --- | --- | --- |\n")
	for _, f := range s.rec.faults {
		note := f.note
		if f.err != nil {
			note = "error: " + oneLine(f.err.Error())
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", s.rec.since(f.start), f.name, f.end.Sub(f.start).Round(time.Second), note)
	}
}

// printFailures lists the failures that count, those alike and at most
// runGap apart as one run, at most 20 runs of the clients' and 20 of the
// probe's.
func (s *soak) printFailures(w io.Writer) {
	var calls, probes []failure
	for _, c := range s.rec.calls {
		if c.err != "" && !s.rec.excused(c) {
			calls = append(calls, failure{c.at, fmt.Sprintf("%s %s: %s", c.sdk, c.profile, oneLine(c.err))})
		}
	}
	for _, p := range s.rec.probes {
		var what string
		switch {
		case p.expired:
			what = fmt.Sprintf("probe %s: 200 with credentials that had expired at %s", p.profile, p.exp.Format(time.RFC3339))
		case p.dead && p.deadFor > revokedGrace:
			what = fmt.Sprintf("probe %s: 200 with a key IAM no longer had", p.profile)
		case s.rec.probeFailed(p):
			what = fmt.Sprintf("probe %s: status %d: %s", p.profile, p.status, oneLine(p.err))
		default:
			continue
		}
		probes = append(probes, failure{p.at, what})
	}
	var lines []string
	for _, list := range [][]failure{calls, probes} {
		for i, r := range group(list) {
			if i == 20 {
				lines = append(lines, "- ...")
				break
			}
			at := s.rec.since(r.first)
			if r.n > 1 {
				at += "–" + s.rec.since(r.last)
			}
			lines = append(lines, fmt.Sprintf("- %s ×%d %s", at, r.n, r.what))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\nFailures that count (times from serve's start; alike failures at most %s apart as one line):\n\n%s\n", runGap, strings.Join(lines, "\n"))
	}
}

// runGap is the longest pause within one run of alike failures.
const runGap = 5 * time.Second

// failure is one failure for the list; a failRun is alike ones in a row.
type failure struct {
	at   time.Time
	what string
}

type failRun struct {
	first, last time.Time
	n           int
	what        string
}

// group merges failures (in time order per source, interleaved between
// sources) into runs of the same what, at most runGap apart.
func group(list []failure) []failRun {
	sort.SliceStable(list, func(i, j int) bool { return list[i].at.Before(list[j].at) })
	var runs []failRun
	open := map[string]int{} // what -> index of its latest run
	for _, f := range list {
		if i, ok := open[f.what]; ok && f.at.Sub(runs[i].last) <= runGap {
			runs[i].last = f.at
			runs[i].n++
			continue
		}
		open[f.what] = len(runs)
		runs = append(runs, failRun{first: f.at, last: f.at, n: 1, what: f.what})
	}
	return runs
}

// oneLine is s on one line, cut to fit a row of the report.
func oneLine(s string) string {
	s = config.OneLine(s)
	if len(s) > 240 {
		s = s[:240] + "..."
	}
	return s
}
