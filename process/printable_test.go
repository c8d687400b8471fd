package process

import (
	"strings"
	"testing"
	"unicode"
)

func TestPrintable(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
	}{
		{"plain", "read aws/creds/dev: permission denied", "read aws/creds/dev: permission denied"},
		{"empty", "", ""},
		{"unicode text stays", "rôle « dév » 開発 ✓", "rôle « dév » 開発 ✓"},
		{"backslash stays", `C:\Users\me\config.toml`, `C:\Users\me\config.toml`},
		{"white space collapses", "  2 errors occurred:\n\t* permission denied\r\n\t* invalid token\n\n", "2 errors occurred: * permission denied * invalid token"},
		{"unicode spaces collapse", "a\u00a0\u2028b\u2029\u0085c\u3000d", "a b c d"},
		{"ESC colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"ESC and newline in a profile name", "no profile \"x\x1b[31m\ny\"", `no profile "x\x1b[31m y"`},
		{"NUL BEL BS DEL", "a\x00b\x07c\x08d\x7fe", `a\x00b\x07c\x08d\x7fe`},
		{"OSC title", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"C1 CSI", "a\u009b31mb", `a\u009b31mb`},
		{"bidi override", "user\u202egpj.exe", `user\u202egpj.exe`},
		{"bidi embeddings and isolates", "\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069", `\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`},
		{"marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`},
		{"zero width and BOM", "a\u200bb\u200dc\u2060d\ufeffe", `a\u200bb\u200dc\u2060d\ufeffe`},
		{"tag character", "a\U000e0041b", `a\U000e0041b`},
		{"soft hyphen", "ad\u00admin", `ad\u00admin`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"escape between spaces keeps them", "a \x1b b", `a \x1b b`},
		{"leading control", "\x1bx", `\x1bx`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Printable(tt.in)
			if got != tt.want {
				t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if Printable(got) != got {
				t.Errorf("Printable is not idempotent on %q", got)
			}
		})
	}
}

// TestPrintableRunes checks every rune of the Basic Multilingual Plane and the
// tag block: what Printable lets through is neither a control nor a format
// character, and no line break survives.
func TestPrintableRunes(t *testing.T) {
	check := func(r rune) {
		got := Printable("a" + string(r) + "b")
		for _, g := range got {
			if unicode.Is(unicode.Cc, g) || unicode.Is(unicode.Cf, g) || (g != ' ' && unicode.IsSpace(g)) {
				t.Errorf("Printable(%q) = %q lets %U through", "a"+string(r)+"b", got, g)
			}
		}
		if strings.ContainsAny(got, "\n\r\x1b") {
			t.Errorf("Printable(%q) = %q", string(r), got)
		}
	}
	for r := rune(0); r <= 0xffff; r++ {
		check(r)
	}
	for r := rune(0xe0000); r <= 0xe007f; r++ {
		check(r)
	}
}
