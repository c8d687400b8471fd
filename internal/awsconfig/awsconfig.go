// Package awsconfig edits the AWS shared config file (~/.aws/config) for
// the aws-config command and reads it for doctor: where the file is, the
// credential_process line that runs this helper (quoted so that every major
// AWS client reads it back as the same words, and read back the same way),
// the profile section that holds it, and writing that section into the
// file while every other byte stays as it was. It writes through the
// cache's atomic writer, the program's one way of replacing a file.
package awsconfig

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Path is the AWS CLI's shared config file: AWS_CONFIG_FILE, else
// ~/.aws/config.
func Path(getenv func(string) string) (string, error) {
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
// than the ones upsert was asked to write.
var ErrProfileExists = errors.New("the AWS profile exists with another credential_process")

// upsert returns the AWS config file data with awsProfile's
// credential_process set to command. Everything else in the file, other
// profiles and comments included, is kept byte for byte. A missing profile
// is appended. An existing one that already runs command is left as it is
// (changed is false); one with another credential_process, or none, is
// changed only with force, and then only its credential_process line.
func upsert(data []byte, awsProfile, command string, force bool) (out []byte, changed bool, err error) {
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
	return findCredentialProcess(runtime.GOOS, data, program)
}

func findCredentialProcess(goos string, data []byte, program string) []string {
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
		base := baseName(goos, firstWord(goos, strings.TrimSpace(v)))
		if base == program || strings.TrimSuffix(base, ".exe") == program {
			found = append(found, section)
		}
	}
	return found
}

// baseName is the last element of path on goos, whatever the system this
// runs on.
func baseName(goos, path string) string {
	seps := "/"
	if goos == "windows" {
		seps = `/\:`
	}
	return path[strings.LastIndexAny(path, seps)+1:]
}
