package awsconfig

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vault-credential-process/vault-credential-process/internal/shellwords"
)

// CommandLine returns the credential_process value that runs words (a
// program's path and its arguments) on goos, a runtime.GOOS value, in the one
// form that every major AWS client on that system reads back as words. The
// warning is nil when all of them do; otherwise it names the word that some
// of them will misread, and the value is still the best form there is.
//
// Two families of parsers read the line. The aws CLI and boto3 (botocore)
// read the file with Python's configparser and split the value themselves:
// shlex (POSIX rules) on Unix, the C runtime's rules on Windows. The AWS
// SDKs for Go (v1 and v2) and JavaScript read it with their own INI parsers
// and hand the value to `sh -c` or `cmd.exe /C`. Their INI parsers differ:
// aws-sdk-go-v2 and the JS SDK cut the value at a blank followed by # or ;
// (an inline comment), aws-sdk-go-v2 removes a pair of quotes around the
// whole value, and aws-sdk-go (v1) ends the value at a comma that starts a
// token, cuts it at # or ; starting a token, and keeps only the quoted string
// of a value that starts with a double quote.
//
// On Unix every character that could mean something to any of them is
// escaped with a backslash: sh and shlex read `\X` as X, and no INI parser
// above gives a backslash a meaning outside quotes, so the value never
// starts with a quote nor holds a comment start. (Single quotes would need
// no more care from sh, but a value that starts and ends with one loses
// both in aws-sdk-go-v2, and '# inside them is still a comment to the INI
// parsers.) On Windows double quotes are the only quotes that botocore and
// cmd.exe share.
func CommandLine(goos string, words ...string) (string, *QuotingWarning) {
	quote := quoteUnix
	if goos == "windows" {
		quote = quoteWindows
	}
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = quote(w)
	}
	return strings.Join(out, " "), quotingWarning(goos, words)
}

// QuotingWarning says that some AWS client will not run a credential_process
// value as the words it was made from, and why.
type QuotingWarning struct {
	Word    string // the first word at fault
	Problem string // what it holds, e.g. "a line break"
	Effect  string // which clients misread it, and what to do
	// BreaksFile marks a value that ends its line early: written into the
	// AWS config file it leaves a line botocore cannot parse, and then no
	// profile of the file works in the aws CLI.
	BreaksFile bool
}

// String is the warning as one line, for the command's warning on stderr.
func (w *QuotingWarning) String() string {
	return fmt.Sprintf("credential_process: %q holds %s: %s", w.Word, w.Problem, w.Effect)
}

// quotingCheck is one reason why a word cannot be written so that every
// client reads it back; quotingChecks lists them most harmful first. What
// they claim about the clients on Unix was tried with each of them (see
// awsconfig_integration_test.go); on Windows it is read from their source.
type quotingCheck struct {
	windows, unix bool                                  // the systems it applies to
	holds         func(w string, first, last bool) bool // first, last: w's place in the line
	problem       string
	effect        string
	breaksFile    bool
}

var quotingChecks = []quotingCheck{
	{windows: true, unix: true, holds: func(w string, _, _ bool) bool { return !utf8.ValidString(w) },
		problem: "bytes that are not UTF-8",
		effect:  "the aws CLI cannot read the config file then, and aws-sdk-go runs another path"},
	{windows: true, unix: true, holds: func(w string, _, _ bool) bool { return strings.ContainsAny(w, "\n\r") },
		problem: "a line break", breaksFile: true,
		effect: "a value in the AWS config file ends there"},
	{unix: true, holds: edgeBlank,
		problem: "a blank at an end of the line",
		effect:  "the AWS clients' config parsers trim it"},
	{windows: true, holds: func(w string, _, _ bool) bool { return strings.Contains(w, `"`) },
		problem: "a double quote",
		effect:  "cmd.exe, which the AWS SDKs for Go and JavaScript run the line with, does not pass one on reliably"},
	{windows: true, holds: func(w string, _, _ bool) bool { return strings.Contains(w, "%") },
		problem: "a percent sign",
		effect:  "cmd.exe, which the AWS SDKs for Go and JavaScript run the line with, may expand it as a variable"},
	{windows: true, holds: func(w string, _, _ bool) bool { return needsWindowsQuotes(w) },
		problem: "a blank or a character special to cmd.exe, so it is double-quoted",
		effect: "aws-sdk-go-v2 and aws-sdk-go on Windows run a line with double quotes through cmd.exe with the quotes " +
			"escaped, and fail (aws/aws-sdk-go-v2#3208); install the binary in a folder whose path has no blank"},
	{windows: true, holds: func(w string, _, _ bool) bool { return hasNonPrintable(w) },
		problem: "a non-printable character",
		effect:  "cmd.exe, which the AWS SDKs for Go and JavaScript run the line with, may treat it specially"},
	{windows: true, holds: func(w string, _, _ bool) bool { return strings.IndexFunc(w, isNonASCII) >= 0 },
		problem: "non-ASCII characters",
		effect:  "the aws CLI and boto3 on Windows read the config file in the system code page unless Python runs in UTF-8 mode"},
}

// quotingWarning is the first of quotingChecks that words fail on goos.
func quotingWarning(goos string, words []string) *QuotingWarning {
	windows := goos == "windows"
	for _, c := range quotingChecks {
		if windows && !c.windows || !windows && !c.unix {
			continue
		}
		for i, w := range words {
			if c.holds(w, i == 0, i == len(words)-1) {
				return &QuotingWarning{Word: w, Problem: c.problem, Effect: c.effect, BreaksFile: c.breaksFile}
			}
		}
	}
	return nil
}

// edgeBlank reports a blank that the config parsers trim from the ends of
// the value: at the end of the last word (a backslash before it would be
// left alone at the end), or a non-ASCII one at the start of the first (an
// ASCII one is escaped, so the value starts with the backslash).
func edgeBlank(w string, first, last bool) bool {
	r, _ := utf8.DecodeLastRuneInString(w)
	if last && unicode.IsSpace(r) {
		return true
	}
	r, _ = utf8.DecodeRuneInString(w)
	return first && isNonASCII(r) && unicode.IsSpace(r)
}

func isNonASCII(r rune) bool { return r >= utf8.RuneSelf }

// hasNonPrintable reports a character other than a space that
// unicode.IsPrint refuses: controls, Unicode blanks and format characters.
func hasNonPrintable(w string) bool {
	return strings.IndexFunc(w, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0
}

// quoteUnix escapes with a backslash every ASCII character of w outside a
// small set that means nothing to sh, shlex or the INI parsers. It works on
// bytes, so a word that is not UTF-8 keeps its bytes (and gets a warning).
func quoteUnix(w string) string {
	if w == "" {
		return "''"
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if !plainUnix(w[i]) {
			b.WriteByte('\\')
		}
		b.WriteByte(w[i])
	}
	return b.String()
}

func plainUnix(c byte) bool {
	switch {
	case c >= utf8.RuneSelf: // part of a non-ASCII character: no shell or INI syntax
		return true
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	// Not the comma: aws-sdk-go ends a value at a comma that starts a token.
	return strings.IndexByte("_-./@%+=:", c) >= 0
}

// windowsSpecial are the characters that make cmd.exe or the C runtime's
// argument splitting read a word as more than one, or run something else.
const windowsSpecial = " \t\"&|<>^(),;="

func needsWindowsQuotes(w string) bool {
	return w == "" || strings.ContainsAny(w, windowsSpecial)
}

// quoteWindows double-quotes a word that needs it, by the C runtime's rules
// that botocore follows too: backslashes are literal except in front of a
// quote, so a run of them before a quote is doubled, and a quote inside is
// escaped with one more.
func quoteWindows(w string) string {
	if !needsWindowsQuotes(w) {
		return w
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(w); i++ { // bytes: \ and " never occur inside a UTF-8 sequence
		switch w[i] {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(w[i])
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// firstWord is the program of a credential_process value, unquoted the way
// the clients on goos do: shlex's POSIX rules (backslash escapes, single and
// double quotes) on Unix, the C runtime's on Windows (double quotes, and
// backslashes that escape only a quote). The forms earlier versions wrote
// read the same.
func firstWord(goos, s string) string {
	if goos == "windows" {
		return shellwords.First(s, shellwords.WindowsCRT)
	}
	return shellwords.First(s, shellwords.Shlex)
}
