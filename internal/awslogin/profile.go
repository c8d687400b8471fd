package awslogin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/shellwords"
	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
	"github.com/vault-credential-process/vault-credential-process/internal/sts"
)

// profile is what the helper takes of an AWS profile: static keys, or a
// credential_process command line.
type profile struct {
	keys    sts.Keys
	process string
}

// chainKeys are profile settings with which the AWS SDKs get credentials
// some other way (assume a role, SSO, web identity). The helper follows
// none of them: a profile with one is refused rather than read for keys
// the SDKs would not use.
var chainKeys = []string{"role_arn", "source_profile", "credential_source", "web_identity_token_file",
	"sso_session", "sso_start_url", "login_session"}

// readProfile reads the profile from the shared credentials file and the
// config file as the AWS SDKs do (static keys in the credentials file
// first), and refuses a credential_process that runs this helper.
func (s *Source) readProfile() (profile, error) {
	credsPath, configPath := s.filePaths()
	creds, err := readSection(credsPath, s.Profile, false)
	if err != nil {
		return profile{}, s.fileError(credsPath, err)
	}
	conf, err := readSection(configPath, s.Profile, true)
	if err != nil {
		return profile{}, s.fileError(configPath, err)
	}
	if creds == nil && conf == nil {
		return profile{}, &Error{Usage: true,
			Msg:  fmt.Sprintf("read the AWS credentials of the aws login (%s): no profile %s in %s or %s", s.what(), s.Profile, credsPath, configPath),
			Hint: "name a profile of the AWS credentials or config file (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE) in credentials"}
	}
	for _, sec := range []map[string]string{creds, conf} {
		if id := sec["aws_access_key_id"]; id != "" {
			k := sts.Keys{AccessKeyID: id, SecretAccessKey: sec["aws_secret_access_key"], SessionToken: sec["aws_session_token"]}
			if k.SecretAccessKey == "" {
				return profile{}, &Error{Usage: true,
					Msg:  fmt.Sprintf("read the AWS credentials of the aws login (%s): the profile has aws_access_key_id without aws_secret_access_key", s.what()),
					Hint: "add the secret key to the profile, or name another profile"}
			}
			return profile{keys: k}, nil
		}
	}
	for _, sec := range []map[string]string{creds, conf} {
		for _, k := range chainKeys {
			if sec[k] != "" {
				return profile{}, &Error{Usage: true,
					Msg: fmt.Sprintf("read the AWS credentials of the aws login (%s): the profile gets its keys with %s, which the helper does not follow", s.what(), k),
					Hint: "give the helper a profile whose credential_process has the AWS CLI resolve it: credential_process = aws configure export-credentials --profile " +
						s.Profile + " --format process"}
			}
		}
	}
	command := creds["credential_process"]
	if command == "" {
		command = conf["credential_process"]
	}
	if command == "" {
		return profile{}, &Error{Usage: true,
			Msg:  fmt.Sprintf("read the AWS credentials of the aws login (%s): the profile has neither aws_access_key_id nor credential_process", s.what()),
			Hint: "the helper takes static keys or a credential_process from a profile; or choose another source in the auth table"}
	}
	if s.runsSelf(command) {
		return profile{}, &Error{Usage: true,
			Msg: fmt.Sprintf("refused to log in with the aws auth method (%s): the profile's credential_process runs vault-credential-process, "+
				"which would log in again to get the keys for this login", s.what()),
			Hint: "name a profile whose keys come from elsewhere (static keys, or a credential_process of another program), or another source"}
	}
	return profile{process: command}, nil
}

// filePaths are the shared credentials and config files: the variables
// the AWS SDKs read, else ~/.aws/credentials and ~/.aws/config.
func (s *Source) filePaths() (creds, conf string) {
	home := s.Getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	creds, conf = s.Getenv("AWS_SHARED_CREDENTIALS_FILE"), s.Getenv("AWS_CONFIG_FILE")
	if creds == "" {
		creds = filepath.Join(home, ".aws", "credentials")
	}
	if conf == "" {
		conf = filepath.Join(home, ".aws", "config")
	}
	return creds, conf
}

func (s *Source) fileError(path string, err error) error {
	var pe *fs.PathError
	why := err.Error()
	if errors.As(err, &pe) {
		why = pe.Err.Error()
	}
	return &Error{Usage: true, Err: err, Msg: fmt.Sprintf("read the AWS credentials of the aws login (%s): read %s: %s", s.what(), path, why),
		Hint: "the AWS credentials and config files must be regular files readable by you"}
}

// readSection returns the keys of the profile's section of an AWS ini file
// (nil when the file or the section is missing): in the config file
// [profile NAME] (and [default]), in the credentials file [NAME]. Nested
// settings (indented lines) and comment lines are skipped.
func readSection(path, name string, configFile bool) (map[string]string, error) {
	data, err := readSmall(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sec map[string]string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' && strings.HasSuffix(t, "]") {
			f := strings.Fields(t[1 : len(t)-1])
			switch {
			case len(f) == 1:
				in = f[0] == name && (!configFile || name == "default")
			case len(f) == 2 && f[0] == "profile":
				in = configFile && f[1] == name
			default:
				in = false
			}
			if in && sec == nil {
				sec = map[string]string{}
			}
			continue
		}
		if !in || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if k, v, ok := strings.Cut(t, "="); ok {
			sec[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return sec, nil
}

// readSmall reads a small regular file without blocking on a FIFO in its
// place. os.DevNull is empty, as the SDKs read it
// (AWS_SHARED_CREDENTIALS_FILE=/dev/null turns the file off).
func readSmall(path string) ([]byte, error) {
	if path == os.DevNull {
		return nil, nil
	}
	return smallfile.Read(path, maxRead)
}

// runsSelf reports whether command runs this helper: a word whose base
// name is selfName, or the program (looked up on PATH) or a word naming a
// path that is this executable, through links and copies' names alike. A
// wrapper script that runs it unseen is caught by marker instead.
func (s *Source) runsSelf(command string) bool {
	var self os.FileInfo
	if s.Executable != nil {
		if p, err := s.Executable(); err == nil {
			self, _ = os.Stat(p)
		}
	}
	for i, w := range shellWords(runtime.GOOS, command) {
		if base := w[strings.LastIndexAny(w, `/\`)+1:]; strings.TrimSuffix(base, ".exe") == selfName {
			return true
		}
		path := w
		if !strings.ContainsAny(w, `/\`) {
			if i > 0 {
				continue
			}
			var err error
			if path, err = exec.LookPath(w); err != nil {
				continue
			}
		}
		if fi, err := os.Stat(path); err == nil && self != nil && os.SameFile(fi, self) {
			return true
		}
	}
	return false
}

// shellWords splits a command line as sh would, for runsSelf: blanks
// separate words, single quotes keep everything, double quotes and
// backslashes escape. Expansions are left as written. On Windows a
// backslash is a path's separator, not an escape.
func shellWords(goos, s string) []string {
	if goos == "windows" {
		return shellwords.Split(s, shellwords.ShPaths)
	}
	return shellwords.Split(s, shellwords.Sh)
}

// processDocument is what a credential_process prints (Version 1).
type processDocument struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

// runProcess runs the profile's credential_process through the system
// shell, as the Go and JS SDKs do, within ctx (--timeout), and reads the
// keys it prints. Its stderr is passed through; its stdout is never shown.
func (s *Source) runProcess(ctx context.Context, command string) (sts.Keys, error) {
	if s.Run == nil {
		return sts.Keys{}, &Error{Msg: "read the AWS credentials of the aws login (" + s.what() + "): no way to run credential_process"}
	}
	s.debugf("auth aws: running the credential_process of AWS profile %s", s.Profile)
	out := &limitedBuffer{max: maxRead}
	var err error
	if runtime.GOOS == "windows" {
		err = s.Run(ctx, out, "cmd", "/C", command)
	} else {
		err = s.Run(ctx, out, "/bin/sh", "-c", command)
	}
	var le *Error
	switch {
	case errors.As(err, &le):
		return sts.Keys{}, le
	case err != nil:
		return sts.Keys{}, &Error{Err: err, Msg: fmt.Sprintf("read the AWS credentials of the aws login (%s): credential_process failed: %s", s.what(), config.OneLine(err.Error())),
			Hint: "run the profile's credential_process by hand; it must print a credential_process document (Version 1)"}
	case out.over:
		return sts.Keys{}, &Error{Msg: fmt.Sprintf("read the AWS credentials of the aws login (%s): credential_process printed more than %d KiB", s.what(), maxRead>>10)}
	}
	var doc processDocument
	if json.Unmarshal(out.Bytes(), &doc) != nil || doc.Version != 1 || doc.AccessKeyID == "" || doc.SecretAccessKey == "" {
		return sts.Keys{}, &Error{Msg: fmt.Sprintf("read the AWS credentials of the aws login (%s): credential_process did not print a Version 1 document with AccessKeyId and SecretAccessKey", s.what()),
			Hint: "run the profile's credential_process by hand and check what it prints"}
	}
	if exp, err := time.Parse(time.RFC3339, doc.Expiration); err == nil && !exp.After(time.Now()) {
		return sts.Keys{}, &Error{Msg: fmt.Sprintf("read the AWS credentials of the aws login (%s): credential_process printed keys that expired at %s", s.what(), exp.UTC().Format(time.RFC3339))}
	}
	return sts.Keys{AccessKeyID: doc.AccessKeyID, SecretAccessKey: doc.SecretAccessKey, SessionToken: doc.SessionToken}, nil
}

// limitedBuffer keeps the first max bytes written to it and notes the rest.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.over = true
		b.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
