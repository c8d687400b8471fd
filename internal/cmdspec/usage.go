package cmdspec

import (
	"strings"
)

// Usage is the text -h prints for id: the page of id.Page(), with its
// Usage lines, description, flags (a subcommand's under a heading of their
// own), notes and examples. It is rendered when asked for, never at
// start-up.
func (id ID) Usage() string {
	page := id.Page()
	c := &Table[page]
	width := flagColumn()
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, line := range page.synopsisLines() {
		b.WriteString("  " + line + "\n")
	}
	for _, p := range c.Text {
		b.WriteString("\n" + p + "\n")
	}
	writeFlags(&b, "Flags:", page, width)
	for _, sub := range page.Subs() {
		if page != Default {
			writeFlags(&b, "Flags of "+sub.Path()+":", sub, width)
		}
	}
	for _, p := range c.Notes {
		b.WriteString("\n" + p + "\n")
	}
	if len(c.Examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, e := range c.Examples {
			b.WriteString("  " + e + "\n")
		}
	}
	return b.String()
}

// synopsisLines are the Usage lines of id's page, the program's name
// first, a continuation line indented under the first flag: every command
// line's for the main usage, else the command's and its subcommands'.
func (id ID) synopsisLines() []string {
	ids := []ID{id}
	if id == Default {
		ids = append(ids, Commands()...)
	} else {
		ids = append(ids, id.Subs()...)
	}
	var lines []string
	for _, cmd := range ids {
		indent := strings.Repeat(" ", len(Program)+1+len(cmd.Path())+1)
		for _, s := range Table[cmd].Synopsis {
			first, rest, _ := strings.Cut(s, "\n")
			lines = append(lines, Program+" "+first)
			for cont := range strings.SplitSeq(rest, "\n") {
				if cont != "" {
					lines = append(lines, indent+cont)
				}
			}
		}
	}
	return lines
}

// writeFlags writes the flags of id as a section headed heading, if it
// takes any.
func writeFlags(b *strings.Builder, heading string, id ID, width int) {
	started := false
	for f := range id.Listed() {
		if !started {
			b.WriteString("\n" + heading + "\n")
			started = true
		}
		left := f.Words()
		for line := range strings.SplitSeq(f.Text(), "\n") {
			b.WriteString("  " + left + strings.Repeat(" ", width-len(left)+1) + line + "\n")
			left = ""
		}
	}
}

// Words are the flag as a usage line starts it: "--listen ADDR",
// "-h, --help".
func (f *Flag) Words() string {
	s := "--" + f.Name
	if f.Short != "" {
		s = "-" + f.Short + ", " + s
	}
	if f.Placeholder != "" {
		s += " " + f.Placeholder
	}
	return s
}

// Text is the flag's help and its default, as -h shows them; a line break
// starts a continuation line.
func (f *Flag) Text() string {
	if f.Default != "" {
		return f.Help + " (default " + f.Default + ")"
	}
	return f.Help
}

// flagColumn is the width of the flags column of every usage text (the
// widest Words of any command line), so that every page's text starts at
// one column.
func flagColumn() int {
	width := 0
	for id := range NumIDs {
		for f := range id.Listed() {
			width = max(width, len(f.Words()))
		}
	}
	return width
}
