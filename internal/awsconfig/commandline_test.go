package awsconfig

import (
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name  string
		goos  string
		words []string
		want  string
		warn  string // what the warning says the word holds; "" for none
	}{
		{"plain", "linux", []string{"/usr/bin/vcp", "--profile", "dev"}, "/usr/bin/vcp --profile dev", ""},
		{"space: escaped, not quoted (aws-sdk-go keeps only a leading quoted string)", "darwin",
			[]string{"/Users/a b/vcp", "--profile", "dev"}, `/Users/a\ b/vcp --profile dev`, ""},
		{"first and last word with spaces (aws-sdk-go-v2 strips quotes around the whole value)", "linux",
			[]string{"/home/a b/vcp", "--config", "/home/a b/c.toml"}, `/home/a\ b/vcp --config /home/a\ b/c.toml`, ""},
		{"comment starts, comma, quotes, shell syntax", "linux",
			[]string{"/o p/#x ;y,z'q\"r$(s)`t`&|<>*?~![]{}^\\"}, "/o\\ p/\\#x\\ \\;y\\,z\\'q\\\"r\\$\\(s\\)\\`t\\`\\&\\|\\<\\>\\*\\?\\~\\!\\[\\]\\{\\}\\^\\\\", ""},
		{"left alone: what no parser reads", "linux", []string{"/a_b-c.d/e@f%g+h=i:j"}, "/a_b-c.d/e@f%g+h=i:j", ""},
		{"non-ASCII letters left alone", "linux", []string{"/home/zoë/日本/vcp"}, "/home/zoë/日本/vcp", ""},
		{"empty word", "linux", []string{"/vcp", ""}, "/vcp ''", ""},
		{"newline", "linux", []string{"/a\nb/vcp"}, "/a\\\nb/vcp", "a line break"},
		{"carriage return", "linux", []string{"/vcp", "--config", "/a\rb"}, "/vcp --config /a\\\rb", "a line break"},
		// Tried with each client: inside a word these pass, escaped or not.
		{"tab", "linux", []string{"/a\tb/vcp"}, "/a\\\tb/vcp", ""},
		{"no-break space", "linux", []string{"/a\u00a0b/vcp"}, "/a\u00a0b/vcp", ""},
		{"controls and format characters", "linux", []string{"/a\x01\x1b\x7f\u202e\ufeff\u2028b/vcp"},
			"/a\\\x01\\\x1b\\\x7f\u202e\ufeff\u2028b/vcp", ""},
		{"not UTF-8, bytes kept", "linux", []string{"/a\xffb/vcp"}, "/a\xffb/vcp", "bytes that are not UTF-8"},
		{"trailing space of the last word", "linux", []string{"/vcp", "--profile", "dev "}, `/vcp --profile dev\ `, "a blank at an end"},
		{"trailing tab of the last word", "linux", []string{"/vcp", "x\t"}, "/vcp x\\\t", "a blank at an end"},
		{"trailing no-break space of the last word", "linux", []string{"/vcp", "x\u00a0"}, "/vcp x\u00a0", "a blank at an end"},
		{"leading no-break space of the first word", "linux", []string{"\u00a0vcp", "x"}, "\u00a0vcp x", "a blank at an end"},
		{"leading space of the first word is escaped", "linux", []string{" vcp", "x"}, `\ vcp x`, ""},
		{"trailing space of an inner word is fine", "linux", []string{"/a /vcp", "--profile", "dev"}, `/a\ /vcp --profile dev`, ""},
		{"the worst problem wins", "linux", []string{"/vcp", "x ", "a\tb", "c\nd"}, `/vcp x\  a\` + "\t" + `b c\` + "\n" + `d`, "a line break"},

		{"windows plain", "windows", []string{`C:\tools\vcp.exe`, "--profile", "dev"}, `C:\tools\vcp.exe --profile dev`, ""},
		{"windows space: double quotes, backslashes as they are", "windows",
			[]string{`C:\Program Files\vcp.exe`, "--profile", "dev"}, `"C:\Program Files\vcp.exe" --profile dev`, "double-quoted"},
		{"windows space in an argument only", "windows",
			[]string{`C:\vcp.exe`, "--config", `C:\My Files\c.toml`}, `C:\vcp.exe --config "C:\My Files\c.toml"`, "double-quoted"},
		{"windows trailing backslash doubled before the closing quote", "windows",
			[]string{`C:\a b\`}, `"C:\a b\\"`, "double-quoted"},
		{"windows cmd.exe syntax quoted", "windows", []string{`C:\a&b\vcp.exe`}, `"C:\a&b\vcp.exe"`, "double-quoted"},
		{"windows double quote escaped, and warned", "windows", []string{`C:\vcp.exe`, `say "hi"`}, `C:\vcp.exe "say \"hi\""`, "a double quote"},
		{"windows percent sign", "windows", []string{`C:\100%\vcp.exe`}, `C:\100%\vcp.exe`, "a percent sign"},
		{"windows non-ASCII", "windows", []string{`C:\Users\zoë\vcp.exe`}, `C:\Users\zoë\vcp.exe`, "non-ASCII characters"},
		{"windows control character", "windows", []string{"C:\\a\x01b.exe"}, "C:\\a\x01b.exe", "a non-printable character"},
		{"windows newline", "windows", []string{"C:\\a\nb.exe"}, "C:\\a\nb.exe", "a line break"},
		{"windows single quote and hash need nothing", "windows", []string{`C:\o'b#c\vcp.exe`}, `C:\o'b#c\vcp.exe`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warning := CommandLine(tt.goos, tt.words...)
			if got != tt.want {
				t.Errorf("CommandLine(%s, %q) = %s, want %s", tt.goos, tt.words, got, tt.want)
			}
			switch {
			case tt.warn == "" && warning != nil:
				t.Errorf("unexpected warning: %s", warning)
			case tt.warn != "" && warning == nil:
				t.Errorf("no warning, want one about %s", tt.warn)
			case tt.warn != "" && !strings.Contains(warning.Problem, tt.warn):
				t.Errorf("warning %s, want one about %s", warning, tt.warn)
			}
			if warning != nil && warning.BreaksFile != (tt.warn == "a line break") {
				t.Errorf("BreaksFile = %v for %s", warning.BreaksFile, warning)
			}
			if warning != nil && strings.ContainsAny(warning.String(), "\n\r") {
				t.Errorf("the warning is more than one line: %q", warning)
			}
			if tt.goos == "windows" || warning != nil {
				return
			}
			// sh reads the words back (the AWS SDKs run the value with sh -c), and
			// so does the program's own reading of the first word.
			if runtime.GOOS != "windows" {
				if argv := shWords(t, got); !slices.Equal(argv, tt.words) {
					t.Errorf("sh -c reads %q, want %q", argv, tt.words)
				}
			}
			if first := firstWord(tt.goos, got); first != tt.words[0] {
				t.Errorf("firstWord(%s) = %q, want %q", got, first, tt.words[0])
			}
		})
	}
}

// shWords is the words sh -c makes of value.
func shWords(t *testing.T, value string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `printf '%s\0' `+value).Output()
	if err != nil {
		t.Fatalf("sh -c printf ... %s: %v", value, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

func TestFirstWord(t *testing.T) {
	tests := []struct{ goos, value, want string }{
		{"linux", `/usr/bin/vcp --profile dev`, "/usr/bin/vcp"},
		{"linux", `/Users/a\ b/vcp --profile dev`, "/Users/a b/vcp"},
		{"linux", `"/Users/a b/vcp" --profile dev`, "/Users/a b/vcp"}, // as earlier versions wrote it
		{"linux", `"/a \"b\" \\c" x`, `/a "b" \c`},
		{"linux", `'/a b'/vcp x`, "/a b/vcp"},
		{"linux", `"/a\x"`, `/a\x`}, // shlex keeps a backslash before other characters in double quotes
		{"windows", `C:\tools\vcp.exe --role w`, `C:\tools\vcp.exe`},
		{"windows", `"C:\Program Files\vcp.exe" --role w`, `C:\Program Files\vcp.exe`},
		{"windows", `"C:\\Program Files\\vcp.exe" --role w`, `C:\\Program Files\\vcp.exe`}, // as earlier versions wrote it
		{"windows", `"C:\a b\\" x`, `C:\a b\`},
		{"windows", `"say \"hi\"" x`, `say "hi"`},
	}
	for _, tt := range tests {
		if got := firstWord(tt.goos, tt.value); got != tt.want {
			t.Errorf("firstWord(%s, %s) = %q, want %q", tt.goos, tt.value, got, tt.want)
		}
	}
}
