// Package awslogin owns the login to Vault's aws auth method (auth_type
// iam): it finds the AWS credentials that sign the login at the one source
// the settings state (the environment, a named profile, the container
// credentials endpoint, EC2 instance metadata) and builds the login's body,
// an sts:GetCallerIdentity request signed with internal/sts's signer, which
// Vault sends on to STS to learn who signed.
//
// There is no default credential chain. A chain that ends at a profile
// whose credential_process is this helper would run the helper to log the
// helper in, which runs the helper again: the keys that sign must never
// come from the helper itself. So the source is stated; a profile whose
// credential_process is this program is refused; and every program the
// helper runs on its own account gets marker in its environment, so that a
// helper started by one (through a wrapper script, say) refuses to log in
// with this method. Vault's own client for this login
// (github.com/hashicorp/vault/api/auth/aws) is not used for the same
// reason: it links aws-sdk-go v1, whose default chain does what is refused
// here.
package awslogin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/sts"
)

// marker is set (to "1") in the environment of each program the helper runs
// on its own account: a profile's credential_process, the token helper, the
// mfa_command; not the command of exec, which is the user's. A helper that
// starts with it set was started by one of those, and refuses the aws
// method: its signing keys could be coming from the helper that is waiting
// for it.
const marker = "VAULT_CREDENTIAL_PROCESS_DEPTH"

// selfName is the helper's program name: a credential_process that runs a
// program of this name is refused, wherever it is installed.
const selfName = "vault-credential-process"

// maxRead bounds every answer, file and program output read here: a
// credentials document or an AWS config file is a few KiB.
const maxRead = 1 << 20

// MarkEnv returns env (nil: this process's environment) with marker set.
func MarkEnv(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, marker+"=") {
			out = append(out, kv)
		}
	}
	return append(out, marker+"=1")
}

// Error is a failure to report: one line without a secret, a hint, and
// whether the settings are at fault (exit status 2) rather than the run.
type Error struct {
	Msg, Hint string
	Usage     bool
	Err       error // the cause, for errors.Is/As; not printed
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Source is where the signing credentials come from, and what reading them
// needs from the run.
type Source struct {
	Kind    string // config.AWSFromEnv, AWSFromProfile, AWSFromContainer or AWSFromIMDS
	Profile string // the AWS profile of AWSFromProfile

	Getenv func(string) string
	// Executable is this program's path (os.Executable), to refuse a
	// credential_process that runs it.
	Executable func() (string, error)
	// Run runs a profile's credential_process command (name and args: the
	// system shell and the command line), its stdout to stdout, within
	// ctx, with marker in its environment.
	Run func(ctx context.Context, stdout io.Writer, name string, args ...string) error
	// HTTP reaches the container endpoint and instance metadata; nil for
	// localHTTPClient().
	HTTP   *http.Client
	Debugf func(format string, args ...any)
}

// what names the source as the settings do, for messages.
func (s *Source) what() string {
	if s.Kind == config.AWSFromProfile {
		return `credentials = "profile:` + s.Profile + `"`
	}
	return `credentials = "` + s.Kind + `"`
}

// checkMarker refuses to go on in a helper that a helper started.
func (s *Source) checkMarker() error {
	if s.Getenv(marker) == "" {
		return nil
	}
	return &Error{Usage: true,
		Msg: "refused to log in with the aws auth method: this run was started by vault-credential-process itself (" + marker +
			" is set), so the AWS credentials that sign its login may be the helper's own, which would run the helper again",
		Hint: "the keys that sign an aws login must come from elsewhere: a profile whose credential_process is another program, static keys, the environment, the container endpoint or instance metadata"}
}

// Identity is what tells the signing principal apart without asking AWS,
// for the cache keys: a run served from the cache must not wait for a
// program, an endpoint or STS. For keys in the environment or a profile,
// the access key id (an access key belongs to one principal); for a
// profile's credential_process, the profile and the command; for the
// container endpoint, its URL (per task in ECS); for instance metadata, the
// endpoint (one role per instance). It also refuses, before any request,
// what keys would refuse: the marker, a credential_process of this helper.
func (s *Source) Identity() ([]string, error) {
	if err := s.checkMarker(); err != nil {
		return nil, err
	}
	switch s.Kind {
	case config.AWSFromEnv:
		id := strings.TrimSpace(s.Getenv("AWS_ACCESS_KEY_ID"))
		if id == "" {
			return nil, s.envMissing("AWS_ACCESS_KEY_ID")
		}
		return []string{"access_key_id", id}, nil
	case config.AWSFromProfile:
		p, err := s.readProfile()
		if err != nil {
			return nil, err
		}
		if p.process != "" {
			return []string{"profile", s.Profile, "credential_process", p.process}, nil
		}
		return []string{"profile", s.Profile, "access_key_id", p.keys.AccessKeyID}, nil
	case config.AWSFromContainer:
		u, err := s.containerURL()
		if err != nil {
			return nil, err
		}
		return []string{"container", u}, nil
	case config.AWSFromIMDS:
		e, err := s.imdsEndpoint()
		if err != nil {
			return nil, err
		}
		return []string{"imds", e}, nil
	}
	return nil, &Error{Usage: true, Msg: "unknown AWS credentials source " + s.Kind}
}

// keys reads the signing credentials from the source: the environment or
// the profile's files, or a request to the container endpoint or instance
// metadata, or the profile's credential_process (bounded by ctx).
func (s *Source) keys(ctx context.Context) (sts.Keys, error) {
	if err := s.checkMarker(); err != nil {
		return sts.Keys{}, err
	}
	switch s.Kind {
	case config.AWSFromEnv:
		k := sts.Keys{AccessKeyID: strings.TrimSpace(s.Getenv("AWS_ACCESS_KEY_ID")),
			SecretAccessKey: strings.TrimSpace(s.Getenv("AWS_SECRET_ACCESS_KEY")), SessionToken: strings.TrimSpace(s.Getenv("AWS_SESSION_TOKEN"))}
		switch {
		case k.AccessKeyID == "":
			return sts.Keys{}, s.envMissing("AWS_ACCESS_KEY_ID")
		case k.SecretAccessKey == "":
			return sts.Keys{}, s.envMissing("AWS_SECRET_ACCESS_KEY")
		}
		return k, nil
	case config.AWSFromProfile:
		p, err := s.readProfile()
		if err != nil {
			return sts.Keys{}, err
		}
		if p.process != "" {
			return s.runProcess(ctx, p.process)
		}
		return p.keys, nil
	case config.AWSFromContainer:
		return s.containerKeys(ctx)
	case config.AWSFromIMDS:
		return s.imdsKeys(ctx)
	}
	return sts.Keys{}, &Error{Usage: true, Msg: "unknown AWS credentials source " + s.Kind}
}

func (s *Source) envMissing(name string) error {
	return &Error{Usage: true, Msg: fmt.Sprintf("read the AWS credentials of the aws login (%s): %s is not set", s.what(), name),
		Hint: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys) where the helper runs, or choose another source in the auth table"}
}

func (s *Source) debugf(format string, args ...any) {
	if s.Debugf != nil {
		s.Debugf(format, args...)
	}
}

// stsCheck bounds the question to STS of whom the keys belong to: Vault
// asks STS itself, so a machine that cannot reach STS can still log in.
const stsCheck = 5 * time.Second

// Login is the aws method's login body (POST auth/<mount>/login): the keys
// from src, whom they belong to (asked of STS at r's endpoint, so that a
// wrong or expired key fails with STS's words rather than as Vault relays
// them, and --debug names the principal), and the signed request. It runs on
// a login only, never for a cache hit.
func Login(ctx context.Context, src *Source, r Request) (map[string]any, error) {
	keys, err := src.keys(ctx)
	if err != nil {
		return nil, err
	}
	endpoint, region, err := r.resolve()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, stsCheck)
	defer cancel()
	id, err := sts.Caller(cctx, sts.Call{Endpoint: endpoint, Region: region, HTTP: stsHTTPClient(), Keys: keys}, 0, sts.Backoff, src.debugf)
	var se *sts.Error
	switch {
	case errors.As(err, &se):
		return nil, &Error{Err: err, Msg: fmt.Sprintf("check the AWS credentials of the aws login (%s) with STS at %s: %s: %s", src.what(), endpoint, se.Code, config.OneLine(se.Message)),
			Hint: "the keys are wrong, expired or deleted, or not valid in sts_region: check the source, or refresh it (aws sso login, a new session)"}
	case err != nil:
		src.debugf("auth aws: could not ask STS at %s who signs (%v); Vault will", endpoint, config.OneLine(err.Error()))
	default:
		src.debugf("auth aws: signing with the keys of %s (%s)", id.Arn, src.what())
	}
	return loginData(ctx, keys, r, time.Now())
}
