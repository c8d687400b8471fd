// Package shellwords splits a command line into words as the programs that
// read a credential_process line do: sh (which the AWS SDKs for Go and
// JavaScript run it with), Python's shlex (botocore on Unix) and the
// Windows C runtime (botocore on Windows). internal/awsconfig reads back
// the program of a line it manages; internal/awslogin looks for this
// helper in a profile's credential_process.
package shellwords

import "strings"

// Dialect is a way of reading a command line.
type Dialect int

const (
	// Sh reads as POSIX sh does a simple command list: blanks, newlines,
	// ';', '&' and '|' separate words, single quotes keep everything,
	// inside double quotes a backslash escapes " \ $ and `, outside
	// quotes it escapes any character. Expansions are left as written.
	Sh Dialect = iota
	// ShPaths is Sh with a backslash outside quotes kept as it is: a
	// Windows path's separator, not an escape.
	ShPaths
	// Shlex reads as Python's shlex.split (POSIX mode) does, up to the
	// separators: blanks and tabs separate words, inside double quotes a
	// backslash escapes only " and \.
	Shlex
	// WindowsCRT reads as the C runtime's argument splitting does: double
	// quotes group, and backslashes are literal except in a run that ends
	// at a double quote, where each pair is one backslash and an odd one
	// left escapes the quote.
	WindowsCRT
)

// rules are what a dialect of the sh family does.
type rules struct {
	separators     string // end a word outside quotes
	escapedInQuote string // what a backslash escapes inside double quotes
	escapeOutside  bool   // a backslash outside quotes escapes the next character
}

var shFamily = map[Dialect]rules{
	Sh:      {separators: " \t\n;&|", escapedInQuote: "\"\\$`", escapeOutside: true},
	ShPaths: {separators: " \t\n;&|", escapedInQuote: "\"\\$`"},
	Shlex:   {separators: " \t", escapedInQuote: "\"\\", escapeOutside: true},
}

// Split returns the words of s read in dialect d. An empty pair of quotes
// is an empty word; an unclosed quote runs to the end of s.
func Split(s string, d Dialect) []string {
	if d == WindowsCRT {
		return splitCRT(s)
	}
	return splitSh(s, shFamily[d])
}

// First is the first word of s read in dialect d (the program of a
// command line), or "" when there is none.
func First(s string, d Dialect) string {
	if w := Split(s, d); len(w) > 0 {
		return w[0]
	}
	return ""
}

// words collects the words of a split: word says whether one is under
// way, which an empty pair of quotes starts too.
type words struct {
	out  []string
	b    strings.Builder
	word bool
}

func (w *words) add(s string) { w.b.WriteString(s); w.word = true }

func (w *words) end() {
	if w.word {
		w.out = append(w.out, w.b.String())
		w.b.Reset()
		w.word = false
	}
}

func splitSh(s string, r rules) []string {
	var w words
	var quote byte // the open quote, or 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				w.add(s[i : i+1])
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && strings.IndexByte(r.escapedInQuote, s[i+1]) >= 0:
				i++
				w.add(s[i : i+1])
			default:
				w.add(s[i : i+1])
			}
		case c == '\'' || c == '"':
			quote = c
			w.word = true
		case c == '\\' && i+1 < len(s) && r.escapeOutside:
			i++
			w.add(s[i : i+1])
		case strings.IndexByte(r.separators, c) >= 0:
			w.end()
		default:
			w.add(s[i : i+1])
		}
	}
	w.end()
	return w.out
}

func splitCRT(s string) []string {
	var w words
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			n := 1
			for i+n < len(s) && s[i+n] == '\\' {
				n++
			}
			if i+n < len(s) && s[i+n] == '"' {
				w.add(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					w.add(`"`)
					i++ // the escaped quote
				}
				i += n - 1 // an even run leaves the quote to toggle
			} else {
				w.add(s[i : i+n])
				i += n - 1
			}
		case c == '"':
			quoted = !quoted
			w.word = true
		case !quoted && (c == ' ' || c == '\t'):
			w.end()
		default:
			w.add(s[i : i+1])
		}
	}
	w.end()
	return w.out
}
