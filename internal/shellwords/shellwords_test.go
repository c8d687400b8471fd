package shellwords

import (
	"slices"
	"testing"
)

// TestSplit: one line read in each dialect, where they part ways.
func TestSplit(t *testing.T) {
	tests := []struct {
		in                      string
		sh, shPaths, shlex, crt []string
	}{
		{`a b  c`, w("a", "b", "c"), w("a", "b", "c"), w("a", "b", "c"), w("a", "b", "c")},
		{`a;b|c&&d`, w("a", "b", "c", "d"), w("a", "b", "c", "d"), w("a;b|c&&d"), w("a;b|c&&d")},
		{"a\nb", w("a", "b"), w("a", "b"), w("a\nb"), w("a\nb")},
		{`'a b' c`, w("a b", "c"), w("a b", "c"), w("a b", "c"), w("'a", "b'", "c")},
		{`"a \"b\" \\c" d`, w(`a "b" \c`, "d"), w(`a "b" \c`, "d"), w(`a "b" \c`, "d"), w(`a "b" \\c`, "d")},
		{`"a\$b"`, w("a$b"), w("a$b"), w(`a\$b`), w(`a\$b`)},
		{`C:\x\y z`, w("C:xy", "z"), w(`C:\x\y`, "z"), w("C:xy", "z"), w(`C:\x\y`, "z")},
		{`"C:\a b\\" x`, w(`C:\a b\`, "x"), w(`C:\a b\`, "x"), w(`C:\a b\`, "x"), w(`C:\a b\`, "x")},
		{`'' x`, w("", "x"), w("", "x"), w("", "x"), w("''", "x")},
		{`"" x`, w("", "x"), w("", "x"), w("", "x"), w("", "x")},
		{`a\`, w(`a\`), w(`a\`), w(`a\`), w(`a\`)},
		{`"open x`, w("open x"), w("open x"), w("open x"), w("open x")},
		{``, nil, nil, nil, nil},
	}
	for _, tt := range tests {
		for _, d := range []struct {
			name string
			d    Dialect
			want []string
		}{{"Sh", Sh, tt.sh}, {"ShPaths", ShPaths, tt.shPaths}, {"Shlex", Shlex, tt.shlex}, {"WindowsCRT", WindowsCRT, tt.crt}} {
			if got := Split(tt.in, d.d); !slices.Equal(got, d.want) {
				t.Errorf("Split(%q, %s) = %q, want %q", tt.in, d.name, got, d.want)
			}
			first := ""
			if len(d.want) > 0 {
				first = d.want[0]
			}
			if got := First(tt.in, d.d); got != first {
				t.Errorf("First(%q, %s) = %q, want %q", tt.in, d.name, got, first)
			}
		}
	}
}

func w(words ...string) []string { return words }
