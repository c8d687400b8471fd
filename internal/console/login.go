package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultFederationDuration is the console session of an IAM user's keys
// when no duration is asked for: an hour, like an assumed role's session,
// rather than GetFederationToken's own default of 12 hours.
const DefaultFederationDuration = time.Hour

// Issuer is the Issuer of the login URL: where AWS sends the user when the
// console session ends, this project's page.
const Issuer = "https://github.com/vault-credential-process/vault-credential-process"

// Request is a console sign-in.
type Request struct {
	Credentials Credentials
	Kind        Kind
	Region      string
	Destination string // "" for defaultDestination(Region)
	Endpoint    string // federation endpoint; "" for federationEndpoint(Region)
	// Duration is the console session's length, 0 for AWS's default:
	// SessionDuration for AssumedRole, GetFederationToken's DurationSeconds
	// for LongTerm (0 there is DefaultFederationDuration); FederationToken
	// credentials cannot take one.
	Duration   time.Duration
	Federation Federation // the GetFederationToken call for LongTerm; Duration is set from above
	HTTP       *http.Client
	Debugf     func(format string, args ...any)
}

// errDurationFixed refuses a duration for federation token credentials:
// their console session lasts as long as they do, and AWS refuses a
// SessionDuration for them.
var errDurationFixed = errors.New("the console session of federation token credentials lasts as long as they do: AWS takes no duration for them")

// DurationRange is the console session length AWS takes for credentials
// of kind: SessionDuration for AssumedRole, GetFederationToken's
// DurationSeconds for LongTerm; max is 0 for the kinds that take none
// (FederationToken: the session lasts as long as the credentials;
// SessionToken: no console session at all).
func DurationRange(kind Kind) (min, max time.Duration) {
	switch kind {
	case AssumedRole:
		return minDuration, maxSessionDuration
	case LongTerm:
		return minDuration, maxFederationDuration
	}
	return 0, 0
}

// CheckDuration refuses a duration that AWS would refuse for kind; 0 is
// always fine.
func CheckDuration(kind Kind, d time.Duration) error {
	if d == 0 {
		return nil
	}
	switch kind {
	case FederationToken:
		return errDurationFixed
	case SessionToken:
		return ErrSessionToken
	}
	lo, hi := DurationRange(kind)
	if d%time.Second != 0 || d < lo || d > hi {
		return fmt.Errorf("a console session of %s credentials lasts from %s to %s in whole seconds, not %s",
			kind, fmtDuration(lo), fmtDuration(hi), fmtDuration(d))
	}
	return nil
}

// FormatDuration is d as a person writes it, and as Vault and AWS's
// documentation do: 15m, 12h, 1h30m, rather than Go's 15m0s.
func FormatDuration(d time.Duration) string { return fmtDuration(d) }

func fmtDuration(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// SignIn returns the login URL for r: for LongTerm keys it first gets a
// federation token, then it asks the federation endpoint for a sign-in
// token. The URL is valid for 15 minutes and is a bearer credential.
func SignIn(ctx context.Context, r Request) (string, error) {
	if !ValidRegion(r.Region) {
		return "", fmt.Errorf("%q is not an AWS region name", r.Region)
	}
	if err := CheckDuration(r.Kind, r.Duration); err != nil {
		return "", err
	}
	if r.Endpoint == "" {
		r.Endpoint = federationEndpoint(r.Region)
	}
	if err := CheckEndpoint(r.Endpoint); err != nil {
		return "", fmt.Errorf("federation endpoint: %w", err)
	}
	if r.Destination == "" {
		r.Destination = defaultDestination(r.Region)
	}
	if r.HTTP == nil {
		r.HTTP = HTTPClient()
	}
	creds, kind, sessionDuration := r.Credentials, r.Kind, time.Duration(0)
	switch r.Kind {
	case SessionToken:
		return "", ErrSessionToken
	case AssumedRole:
		sessionDuration = r.Duration
	case LongTerm:
		// The federation endpoint refuses an IAM user's keys; a federation
		// token of the same user is accepted, and its lifetime is the
		// console session's.
		f := r.Federation
		f.Duration, f.HTTP, f.Debugf = r.Duration, r.HTTP, r.Debugf
		if f.Duration == 0 {
			f.Duration = DefaultFederationDuration
		}
		if f.Region == "" {
			f.Region = r.Region
		}
		r.debugf("sts:GetFederationToken at %s as federated user %s (duration %s)", stsEndpoint(f), f.Name, f.Duration)
		var exp time.Time
		var err error
		if creds, exp, err = federate(ctx, creds, f); err != nil {
			return "", err
		}
		r.debugf("federation token expires %s", exp.UTC().Format(time.RFC3339))
		kind = FederationToken
	}
	r.debugf("getSigninToken at %s with %s credentials (SessionDuration %s)", r.Endpoint, kind,
		durationOrDefault(sessionDuration, "not sent"))
	token, err := signinToken(ctx, r.HTTP, r.Endpoint, creds, sessionDuration)
	if err != nil {
		return "", err
	}
	return loginURL(r.Endpoint, Issuer, r.Destination, token), nil
}

func stsEndpoint(f Federation) string {
	if f.Endpoint != "" {
		return f.Endpoint
	}
	return "STS in " + f.Region
}

func durationOrDefault(d time.Duration, def string) string {
	if d == 0 {
		return def
	}
	return d.String()
}

func (r Request) debugf(format string, args ...any) {
	if r.Debugf != nil {
		r.Debugf(format, args...)
	}
}
