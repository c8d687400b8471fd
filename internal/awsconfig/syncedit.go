package awsconfig

import (
	"strings"
)

// The AWS config file as lines, its sections, and the line edits Sync makes
// of it. Lines keep their line endings, so that what is not edited is
// written back byte for byte.

// file is AWS config data split into lines (each with its line ending; the
// last may have none) and sections.
type file struct {
	lines    []string
	sections []section
	count    map[string]int // profile name -> how many sections have it
	eol      string         // "\r\n" when the file's first line ends so, else "\n"
}

// section is a [header] and its body: lines[header] is the header, and
// the body runs up to end (exclusive): the next header or the end of file.
type section struct {
	header, end int
	name        string // the profile's name; "" for a section that is not a profile
	marker      int    // the index of the marker line right above the header; -1 for none
	scope       string // from the marker
	mount       string // from the marker
}

func parseFile(data []byte) *file {
	f := &file{lines: strings.SplitAfter(string(data), "\n"), count: map[string]int{}, eol: "\n"}
	if n := len(f.lines); f.lines[n-1] == "" {
		f.lines = f.lines[:n-1]
	}
	if len(f.lines) > 0 && strings.HasSuffix(f.lines[0], "\r\n") {
		f.eol = "\r\n"
	}
	for i, l := range f.lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "[") {
			continue
		}
		if n := len(f.sections); n > 0 {
			f.sections[n-1].end = i
		}
		s := section{header: i, end: len(f.lines), name: profileName(l), marker: -1}
		if i > 0 {
			if scope, mount, ok := parseMarker(f.lines[i-1]); ok {
				s.marker, s.scope, s.mount = i-1, scope, mount
			}
		}
		if s.name != "" {
			f.count[s.name]++
		}
		f.sections = append(f.sections, s)
	}
	return f
}

// profileName is the name of the profile a header line opens, "" for a
// line that is not a profile's header ([sso-session x], [services x]).
func profileName(line string) string {
	h := normalizeHeader(line)
	switch {
	case h == "[default]":
		return "default"
	case strings.HasPrefix(h, "[profile "):
		return strings.TrimSuffix(strings.TrimPrefix(h, "[profile "), "]")
	}
	return ""
}

// parseMarker reads a marker line: its scope (the fields before mount=)
// and mount.
func parseMarker(line string) (scope, mount string, ok bool) {
	rest, ok := strings.CutPrefix(trimEOL(line), marker+": ")
	if !ok {
		return "", "", false
	}
	scope, mount, ok = strings.Cut(rest, " mount=")
	return scope, mount, ok && scope != "" && mount != ""
}

func trimEOL(l string) string { return strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r") }

func eolOf(l string) string { return l[len(trimEOL(l)):] }

// lineEdit is what happens to one line of the file: replaced (replace is
// not nil), deleted, and lines inserted after it.
type lineEdit struct {
	replace *string
	del     bool
	after   []string
}

// editor collects the edits of one Sync.
type editor struct {
	f      *file
	edits  []lineEdit
	append []string // lines after the end of the file
}

// current is line i as the edits so far leave it.
func (e *editor) current(i int) string {
	if r := e.edits[i].replace; r != nil {
		return *r
	}
	return e.f.lines[i]
}

// set replaces line i with text, keeping its line ending; changed is false
// when the line already says text.
func (e *editor) set(i int, text string) (changed bool) {
	if trimEOL(e.current(i)) == text {
		return false
	}
	l := text + eolOf(e.current(i))
	e.edits[i].replace = &l
	return true
}

// endLine gives line i a line ending if it has none (the file's last line),
// so that lines can follow it.
func (e *editor) endLine(i int) {
	if l := e.current(i); eolOf(l) == "" {
		l += e.f.eol
		e.edits[i].replace = &l
	}
}

// insertAfter inserts lines after line i.
func (e *editor) insertAfter(i int, lines ...string) {
	e.endLine(i)
	e.edits[i].after = append(e.edits[i].after, lines...)
}

// stanza is the lines of a new managed profile.
func (e *editor) stanza(p Profile, scope string) []string {
	out := []string{MarkerLine(scope, p.Mount), sectionHeader(p.Name), "credential_process = " + p.Command}
	if p.Region != "" {
		out = append(out, "region = "+p.Region)
	}
	for i := range out {
		out[i] += e.f.eol
	}
	return out
}

// upsert appends p, or updates the managed section of its name.
func (e *editor) upsert(p Profile, scope string) Change {
	var found []section
	for _, s := range e.f.sections {
		if s.name == p.Name {
			found = append(found, s)
		}
	}
	switch {
	case len(found) == 0:
		lines := e.stanza(p, scope)
		if n := len(e.f.lines); n > 0 || len(e.append) > 0 {
			lines = append([]string{e.f.eol}, lines...)
			if n > 0 {
				e.endLine(n - 1)
			}
		}
		e.append = append(e.append, lines...)
		return Change{Profile: p.Name, Kind: Added}
	case len(found) > 1:
		return Change{Profile: p.Name, Kind: Kept, Reason: "the file has more than one profile of that name"}
	case found[0].marker < 0:
		return Change{Profile: p.Name, Kind: Kept, Reason: "it exists and was not written by aws-config --all"}
	case found[0].scope != scope:
		return Change{Profile: p.Name, Kind: Kept, Reason: "aws-config --all manages it for another Vault (" + found[0].scope + ")"}
	}
	s := found[0]
	changed := e.set(s.marker, MarkerLine(scope, p.Mount))
	at, c := e.setKey(s, "credential_process", p.Command, s.header)
	changed = changed || c
	if p.Region != "" {
		_, c = e.setKey(s, "region", p.Region, at)
		changed = changed || c
	}
	if !changed {
		return Change{Profile: p.Name}
	}
	return Change{Profile: p.Name, Kind: Updated}
}

// setKey sets the first line of key in section s to value, or inserts one
// after line at; it returns the key's line (or at) and whether the file
// changed.
func (e *editor) setKey(s section, key, value string, at int) (int, bool) {
	for i := s.header + 1; i < s.end; i++ {
		l := e.f.lines[i]
		if l[0] == ' ' || l[0] == '\t' { // a continuation line
			continue
		}
		k, v, ok := strings.Cut(trimEOL(l), "=")
		if !ok || strings.TrimSpace(k) != key {
			continue
		}
		if strings.TrimSpace(v) == value {
			return i, false
		}
		return i, e.set(i, key+" = "+value)
	}
	e.insertAfter(at, key+" = "+value+e.f.eol)
	return at, true
}

// remove deletes a managed section: its marker, header and body, except
// the blank and comment lines that end the body (they are the next
// section's, or the user's). The blank line before the marker goes too
// when nothing but a blank line or the end of the file follows, which
// undoes the separator that appending the profile added.
func (e *editor) remove(s section) {
	end := s.end
	for end > s.header+1 && blankOrComment(e.f.lines[end-1]) {
		end--
	}
	for i := s.marker; i < end; i++ {
		e.edits[i].del = true
	}
	if s.marker > 0 && strings.TrimSpace(e.f.lines[s.marker-1]) == "" &&
		(end == len(e.f.lines) || strings.TrimSpace(e.f.lines[end]) == "") {
		e.edits[s.marker-1].del = true
	}
}

func blankOrComment(l string) bool {
	t := strings.TrimSpace(l)
	return t == "" || t[0] == '#' || t[0] == ';'
}

// op is one line of the edit: kept (' '), removed ('-') or added ('+').
type op struct {
	kind byte
	text string
}

// ops is the whole edit, line by line.
func (e *editor) ops() []op {
	var out []op
	for i, l := range e.f.lines {
		ed := e.edits[i]
		switch {
		case ed.del:
			out = append(out, op{'-', l})
		case ed.replace != nil && *ed.replace != l:
			out = append(out, op{'-', l}, op{'+', *ed.replace})
		default:
			out = append(out, op{' ', l})
		}
		for _, a := range ed.after {
			out = append(out, op{'+', a})
		}
	}
	for _, a := range e.append {
		out = append(out, op{'+', a})
	}
	return out
}
