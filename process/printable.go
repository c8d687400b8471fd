package process

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable returns s as one line that is safe to show on a terminal: runs of
// white space (newlines included) become one space, as in the rest of the
// error text, and every character that could drive or spoof the terminal is
// shown as a Go-style escape instead of being sent raw. Those are the C0 and
// C1 control characters and DEL (an ESC from a Vault error would otherwise
// colour or rewrite the user's terminal), the Unicode format characters
// (bidi overrides and isolates such as U+202E, which reorder what follows,
// zero-width spaces and joiners, the byte-order mark, tag characters) and
// bytes that are not UTF-8.
//
// Errors, hints, warnings, debug lines and doctor's checks go through it at
// the point of output, because their text quotes Vault, the configuration
// file, flags and the environment, none of which the program controls. A backslash is left as
// it is, so Windows paths stay readable; an escape in the output is
// therefore not proof of a control character in the input.
func Printable(s string) string {
	if isPlainLine(s) {
		return s // the usual case: printable ASCII, single spaces
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is owed before the next visible character
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			writeSpace(&b, &space)
			fmt.Fprintf(&b, `\x%02x`, s[i-1])
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			writeSpace(&b, &space)
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r):
			writeSpace(&b, &space)
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			writeSpace(&b, &space)
			b.WriteRune(r)
		}
	}
	return b.String()
}

func writeSpace(b *strings.Builder, space *bool) {
	if *space {
		b.WriteByte(' ')
		*space = false
	}
}

// isPlainLine reports whether s is printable ASCII with no leading,
// trailing or double space, which Printable returns unchanged.
func isPlainLine(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return false
		}
		if c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}
