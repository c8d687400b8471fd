package awsconfig

import (
	"fmt"
	"strings"
)

// diffContext is how many unchanged lines a hunk shows around a change, as
// diff -u does.
const diffContext = 3

// secretKeys are the AWS config keys whose values a diff does not show: a
// user may keep long-term keys in the config file, and a line next to a
// change is shown as context.
var secretKeys = []string{"aws_secret_access_key", "aws_session_token", "aws_security_token"}

// Diff is the change Sync made, as a unified diff between from and to (the
// names on its --- and +++ lines); "" when nothing changed. Each line of
// the file is shown as it is, its line ending aside, but the values of the
// secret keys.
func (r *Result) Diff(from, to string) string {
	if !r.Changed() {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
	// oldAt[i] and newAt[i]: lines of each side before ops[i].
	oldAt, newAt := make([]int, len(r.ops)+1), make([]int, len(r.ops)+1)
	for i, o := range r.ops {
		oldAt[i+1], newAt[i+1] = oldAt[i], newAt[i]
		if o.kind != '+' {
			oldAt[i+1]++
		}
		if o.kind != '-' {
			newAt[i+1]++
		}
	}
	for _, h := range r.hunks() {
		oldN, newN := oldAt[h[1]]-oldAt[h[0]], newAt[h[1]]-newAt[h[0]]
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(oldAt[h[0]], oldN), hunkRange(newAt[h[0]], newN))
		for _, o := range r.ops[h[0]:h[1]] {
			b.WriteByte(o.kind)
			b.WriteString(shown(o.text))
			b.WriteByte('\n')
			if !strings.HasSuffix(o.text, "\n") {
				b.WriteString("\\ No newline at end of file\n")
			}
		}
	}
	return b.String()
}

// hunks are the ranges [start, end) of ops that the diff shows: each
// change with its context, overlapping ones merged.
func (r *Result) hunks() [][2]int {
	var out [][2]int
	for i, o := range r.ops {
		if o.kind == ' ' {
			continue
		}
		start, end := max(i-diffContext, 0), min(i+1+diffContext, len(r.ops))
		if n := len(out); n > 0 && start <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], end)
			continue
		}
		out = append(out, [2]int{start, end})
	}
	return out
}

// hunkRange is one side of a hunk header: its first line (counting from
// 1) and count; an empty side names the line before it.
func hunkRange(before, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", before)
	}
	return fmt.Sprintf("%d,%d", before+1, n)
}

// shown is a line for the diff: without its line ending, and with the
// value of a secret key hidden.
func shown(line string) string {
	l := trimEOL(line)
	k, _, ok := strings.Cut(l, "=")
	if !ok {
		return l
	}
	for _, s := range secretKeys {
		if strings.EqualFold(strings.TrimSpace(k), s) {
			return k + "= (not shown)"
		}
	}
	return l
}
