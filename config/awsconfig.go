package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AWSConfigPath is the AWS CLI's shared config file: AWS_CONFIG_FILE, else
// ~/.aws/config.
func AWSConfigPath(getenv func(string) string) (string, error) {
	if p := getenv("AWS_CONFIG_FILE"); p != "" {
		return p, nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", err
		}
	}
	return filepath.Join(home, ".aws", "config"), nil
}

// CommandLine joins a program path and its arguments the way botocore
// splits credential_process: words with spaces or quotes are double-quoted,
// with \ and " escaped inside.
func CommandLine(words ...string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = quoteWord(w)
	}
	return strings.Join(out, " ")
}

func quoteWord(w string) string {
	if w != "" && !strings.ContainsAny(w, " \t\"'\\#;") {
		return w
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
}

// sectionHeader is how the AWS config file names a profile's section.
func sectionHeader(awsProfile string) string {
	if awsProfile == "default" {
		return "[default]"
	}
	return "[profile " + awsProfile + "]"
}

// Stanza is the AWS config section for a profile whose credentials come
// from command.
func Stanza(awsProfile, command string) string {
	return sectionHeader(awsProfile) + "\ncredential_process = " + command + "\n"
}

// ErrProfileExists marks an AWS profile that already has other settings
// than the ones UpsertProfile was asked to write.
var ErrProfileExists = errors.New("the AWS profile exists with another credential_process")

// UpsertProfile returns the AWS config file data with awsProfile's
// credential_process set to command. Everything else in the file, other
// profiles and comments included, is kept byte for byte. A missing profile
// is appended. An existing one that already runs command is left as it is
// (changed is false); one with another credential_process, or none, is
// changed only with force, and then only its credential_process line.
func UpsertProfile(data []byte, awsProfile, command string, force bool) (out []byte, changed bool, err error) {
	lines := strings.SplitAfter(string(data), "\n")
	header := sectionHeader(awsProfile)
	start := -1
	for i, l := range lines {
		if normalizeHeader(l) == header {
			start = i
			break
		}
	}
	if start < 0 {
		var b bytes.Buffer
		b.Write(data)
		if len(data) > 0 {
			if !bytes.HasSuffix(data, []byte("\n")) {
				b.WriteByte('\n')
			}
			b.WriteByte('\n')
		}
		b.WriteString(Stanza(awsProfile, command))
		return b.Bytes(), true, nil
	}
	cp := -1
	for i := start + 1; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, "[") {
			break
		}
		if k, v, ok := strings.Cut(t, "="); ok && strings.TrimSpace(k) == "credential_process" {
			cp = i
			if strings.TrimSpace(v) == command {
				return data, false, nil
			}
		}
	}
	if !force {
		return nil, false, ErrProfileExists
	}
	line := "credential_process = " + command + "\n"
	if cp >= 0 {
		lines[cp] = line
	} else {
		// Right after the header, so it cannot land in the next section.
		lines = append(lines[:start+1], append([]string{line}, lines[start+1:]...)...)
		if !strings.HasSuffix(lines[start], "\n") {
			lines[start] += "\n"
		}
	}
	return []byte(strings.Join(lines, "")), true, nil
}

// normalizeHeader folds the spacing variants botocore accepts
// ("[ profile  x ]") into the canonical header.
func normalizeHeader(line string) string {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "]") {
		return ""
	}
	inner := strings.Fields(t[1 : len(t)-1])
	if len(inner) == 1 {
		return "[" + inner[0] + "]"
	}
	if len(inner) == 2 && inner[0] == "profile" {
		return "[profile " + inner[1] + "]"
	}
	return ""
}

// FindCredentialProcess lists the profiles of AWS config data whose
// credential_process runs a program whose base name is program.
func FindCredentialProcess(data []byte, program string) []string {
	var found []string
	section := ""
	for _, l := range strings.Split(string(data), "\n") {
		if h := normalizeHeader(l); h != "" {
			section = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h, "[profile "), "["), "]")
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok || strings.TrimSpace(k) != "credential_process" || section == "" {
			continue
		}
		first := firstWord(strings.TrimSpace(v))
		base := filepath.Base(first)
		if base == program || strings.TrimSuffix(base, ".exe") == program {
			found = append(found, section)
		}
	}
	return found
}

// firstWord is the program of a credential_process line: a double-quoted
// word or the text up to the first blank.
func firstWord(s string) string {
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch {
			case s[i] == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case s[i] == '"':
				return b.String()
			default:
				b.WriteByte(s[i])
			}
		}
		return b.String()
	}
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// AWSProfileError says why a profile could not be written.
func AWSProfileError(path, awsProfile string) *Error {
	return &Error{Source: path, Msg: fmt.Sprintf("profile %q exists with another credential_process (or none)", awsProfile),
		Hint: "pass --force to set its credential_process line (its other settings stay), or choose --aws-profile"}
}
