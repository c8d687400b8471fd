package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/browser"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/console"
	"github.com/vault-credential-process/vault-credential-process/internal/vault/oidc"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// loginOptions are login's own flags, checked.
type loginOptions struct {
	stdout      bool
	destination string
	region      string
	endpoint    string // federation endpoint, "" for the partition's
	stsEndpoint string // "" for the region's
	duration    time.Duration
	policy      string
	policyARNs  []string
}

func (c *cli) login(ctx context.Context, args []string) int {
	var o loginOptions
	var duration string
	fs := newFlagSet(cmdspec.Login)
	fs.boolVar(&o.stdout, &cmdspec.LoginStdout)
	fs.stringVar(&o.destination, &cmdspec.LoginDestination)
	fs.stringVar(&o.region, &cmdspec.LoginRegion)
	fs.stringVar(&duration, &cmdspec.LoginDuration)
	fs.stringVar(&o.policy, &cmdspec.LoginPolicy)
	fs.listVar(&o.policyARNs, &cmdspec.LoginPolicyARN)
	fs.stringVar(&o.endpoint, &cmdspec.LoginFederationEndpoint)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	if err := o.check(duration, c.getenv); err != nil {
		return c.report(err)
	}
	s, err := c.settings(&fs.settings, false)
	if err != nil {
		return c.report(err)
	}
	// What the type is known to be refuses what does not fit it before
	// anything is asked of Vault.
	if kind, known := typeKind(s.Type); known {
		if err := o.fits(kind, s.Type, true); err != nil {
			return c.report(err)
		}
		if err := o.stsFromEnv(kind, c.getenv); err != nil {
			return c.report(err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.RunTimeout())
	defer cancel()
	url, err := c.signIn(ctx, s, &o)
	if err != nil {
		return c.report(err)
	}
	cancel()
	if o.stdout {
		fmt.Fprintln(c.stdout, url)
		return process.ExitOK
	}
	return c.openConsole(url, s)
}

// signIn gets the credentials through the core (cache, lock, renewal,
// audit) and trades them for the sign-in URL.
func (c *cli) signIn(ctx context.Context, s *config.Settings, o *loginOptions) (string, error) {
	creds, err := c.credentialsFor(ctx, "login", s)
	if err != nil {
		return "", err
	}
	kind, guessed := credentialsKind(s.Type, creds)
	if guessed {
		c.debugf("no --type: the credentials look like %s credentials", kind)
	}
	// The type was not known before (else fits refused there): what the
	// credentials showed is refused as a failure of the run.
	if err := o.fits(kind, s.Type, false); err != nil {
		return "", err
	}
	if err := o.stsFromEnv(kind, c.getenv); err != nil {
		return "", err
	}
	url, err := console.SignIn(ctx, console.Request{
		Credentials: console.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
			SessionToken: creds.SessionToken},
		Kind:        kind,
		Region:      o.region,
		Destination: o.destination,
		Endpoint:    o.endpoint,
		Duration:    o.duration,
		Federation: console.Federation{Endpoint: o.stsEndpoint, Name: console.FederatedName(s.Role),
			Policy: o.policy, PolicyARNs: o.policyARNs},
		Debugf: c.debugf,
	})
	if err != nil {
		return "", loginError(err, kind, guessed, o)
	}
	c.debugf("sign-in URL ready, valid for 15 minutes")
	return url, nil
}

// openConsole opens url in the browser. Ctrl-C while the page waits
// removes it before the program ends. The browser gets none of the secrets
// the helper knows of in its environment (a browser outlives the run by
// days, and starts programs of its own).
func (c *cli) openConsole(url string, s *config.Settings) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err := browser.Opener{Getenv: c.getenv, Debugf: c.debugf, Hide: oidc.SecretVariables(s.Auth),
		Handed: c.handedNotice}.Open(ctx, url)
	switch {
	case err == nil:
		return process.ExitOK
	case errors.Is(err, context.Canceled):
		return process.ExitFailure
	}
	return c.report(&process.Error{Code: process.ExitFailure, Msg: "login: open the browser: " + err.Error(),
		Hint: "set BROWSER to your browser's command, or run login with --stdout and open the URL yourself", Err: err})
}

// handedNotice tells the user, as soon as the browser command returned,
// which command took the sign-in page and how to get the URL if no browser
// shows it: a launcher that opens nothing would otherwise leave the user
// to a silent wait for the page's removal. The URL is not in it: it is a
// credential, and stderr may be logged.
func (c *cli) handedNotice(launcher string) {
	fmt.Fprintf(c.stderr, "%s: opened the AWS console's sign-in page with %s; no browser window within %s? "+
		"run login again with --stdout to get the URL, or set BROWSER to your browser's command\n",
		name, process.Printable(launcher), console.FormatDuration(browser.Handoff))
}

// check checks login's own flags and the variables they fall back to, and
// fills in the region, the duration and the STS endpoint.
func (o *loginOptions) check(duration string, getenv func(string) string) error {
	if duration != "" {
		d, ok := config.ValidTTL(duration)
		if !ok {
			return &config.Error{Source: "--duration", Msg: fmt.Sprintf("invalid duration %q", duration),
				Hint: "use whole seconds in Vault's syntax: 90m, 4h, 3600s"}
		}
		o.duration = d
	}
	source := "--region"
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if o.region == "" {
			o.region, source = getenv(v), v
		}
	}
	if o.region == "" {
		o.region = "us-east-1"
	}
	if !console.ValidRegion(o.region) {
		return &config.Error{Source: source, Msg: fmt.Sprintf("%q is not an AWS region name", o.region),
			Hint: "name a region such as us-east-1, us-gov-west-1 or cn-north-1"}
	}
	if o.destination != "" {
		if err := console.CheckDestination(o.destination); err != nil {
			return &config.Error{Source: "--destination", Msg: err.Error(), Hint: "give the full https URL of a console page"}
		}
	}
	if o.endpoint != "" {
		if err := console.CheckEndpoint(o.endpoint); err != nil {
			return &config.Error{Source: "--federation-endpoint", Msg: err.Error(),
				Hint: "the credentials are sent there: use https (plain http only to this machine)"}
		}
	}
	return o.checkPolicies()
}

// stsFromEnv sets the STS endpoint of GetFederationToken from the
// variables, and checks it, when credentials of kind call STS (IAM user
// keys): a variable set for other tools (a local AWS emulator's plain http
// address, say) does not stop a sign-in that never calls STS.
func (o *loginOptions) stsFromEnv(kind console.Kind, getenv func(string) string) error {
	if kind != console.LongTerm {
		return nil
	}
	for _, v := range []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"} {
		if e := getenv(v); e != "" {
			if console.CheckEndpoint(e) != nil {
				return &config.Error{Source: v, Msg: fmt.Sprintf("%q is not an https URL (plain http only to this machine)", e),
					Hint: "fix or unset " + v}
			}
			o.stsEndpoint = e
			return nil
		}
	}
	return nil
}

func (o *loginOptions) checkPolicies() error {
	if o.policy != "" {
		if err := console.CheckPolicy(o.policy); err != nil {
			return &config.Error{Source: "--policy", Msg: err.Error(), Hint: "give an IAM policy document in JSON"}
		}
	}
	if len(o.policyARNs) > console.MaxPolicyARNs {
		return &config.Error{Source: "--policy-arn", Msg: fmt.Sprintf("%d managed policies, AWS takes at most %d", len(o.policyARNs), console.MaxPolicyARNs)}
	}
	for _, arn := range o.policyARNs {
		if !strings.HasPrefix(arn, "arn:") {
			return &config.Error{Source: "--policy-arn", Msg: fmt.Sprintf("%q is not an ARN", arn),
				Hint: "name a managed policy such as arn:aws:iam::aws:policy/ReadOnlyAccess"}
		}
	}
	return nil
}

// typeKind is the kind of the credentials a type gives; known is false for
// "" (any dynamic type: the role decides).
func typeKind(typ string) (kind console.Kind, known bool) {
	switch typ {
	case config.TypeIAMUser, config.TypeStatic:
		return console.LongTerm, true
	case config.TypeAssumedRole:
		return console.AssumedRole, true
	case config.TypeFederationToken:
		return console.FederationToken, true
	case config.TypeSessionToken:
		return console.SessionToken, true
	}
	return 0, false
}

// credentialsKind is the kind of creds: from the type when it is known,
// else from what Vault returned. No session token means IAM user keys; an
// ARN (an account id) comes with assumed_role only. The rest is a
// federation token or a session token, which look alike: guessed says the
// first was assumed.
func credentialsKind(typ string, creds *process.Credentials) (kind console.Kind, guessed bool) {
	if kind, known := typeKind(typ); known {
		return kind, false
	}
	switch {
	case creds.SessionToken == "":
		return console.LongTerm, false
	case creds.AccountID != "":
		return console.AssumedRole, false
	}
	return console.FederationToken, true
}

// fits refuses the flags that credentials of kind (of the type typ, ""
// when the role decides) cannot use: before any request, as a usage error;
// after, once the credentials showed their kind, as a failure.
// session_token credentials are refused either way.
func (o *loginOptions) fits(kind console.Kind, typ string, before bool) error {
	if kind == console.SessionToken {
		return &process.Error{Code: process.ExitFailure, Err: console.ErrSessionToken,
			Msg:  "login: " + console.ErrSessionToken.Error(),
			Hint: "sign in with an assumed_role or federation_token role, or iam_user or static keys the IAM user may call sts:GetFederationToken with"}
	}
	var msg, source, hint string
	if console.CheckDuration(kind, o.duration) != nil {
		source = "--duration"
		msg, hint = durationRule(kind, typeName(kind, typ), o.duration)
	} else if (o.policy != "" || len(o.policyARNs) > 0) && kind != console.LongTerm {
		msg, source = fmt.Sprintf("a session policy applies only to iam_user and static credentials (GetFederationToken), not %s credentials",
			typeName(kind, typ)), "--policy"
		hint = "leave out --policy and --policy-arn: the role's own policy decides"
	} else {
		return nil
	}
	if before {
		return &config.Error{Source: source, Msg: msg, Hint: hint}
	}
	return &process.Error{Code: process.ExitFailure, Msg: "login: " + source + ": " + msg, Hint: hint + "; set --type to have this found before Vault is asked"}
}

// durationRule words the console session rule of the credentials at hand,
// refusing d: each kind has its own (AWS's SessionDuration for a role,
// GetFederationToken's lifetime for keys, none for a federation token).
func durationRule(kind console.Kind, typ string, d time.Duration) (msg, hint string) {
	lo, hi := console.DurationRange(kind)
	span := console.FormatDuration(lo) + " to " + console.FormatDuration(hi)
	switch kind {
	case console.FederationToken:
		return typ + " credentials take none: their console session lasts as long as they do",
			"leave out --duration; for a longer session ask Vault for longer credentials with --ttl " +
				"(15m to 36h, within the role's max_sts_ttl)"
	case console.AssumedRole:
		return fmt.Sprintf("a console session with %s credentials lasts %s (AWS's SessionDuration), not %s",
				typ, span, console.FormatDuration(d)),
			"give a --duration from " + span + ", or leave it out for AWS's default"
	}
	return fmt.Sprintf("a console session with %s keys lasts %s (the lifetime of the federation token they are traded for), not %s",
			typ, span, console.FormatDuration(d)),
		"give a --duration from " + span + ", or leave it out for " + console.FormatDuration(console.DefaultFederationDuration)
}

// typeName is the credential type to name in a message: typ when the
// request names it, else the type(s) that give credentials of kind.
func typeName(kind console.Kind, typ string) string {
	if typ != "" {
		return typ
	}
	switch kind {
	case console.AssumedRole:
		return config.TypeAssumedRole
	case console.FederationToken:
		return config.TypeFederationToken
	case console.SessionToken:
		return config.TypeSessionToken
	}
	return config.TypeIAMUser + " or " + config.TypeStatic
}

// loginError words a failure of the sign-in with a hint for its cause.
func loginError(err error, kind console.Kind, guessed bool, o *loginOptions) error {
	hint := "check the network and any proxy (HTTPS_PROXY), or raise --timeout"
	var refused *console.RefusedError
	var stsErr *console.STSError
	switch {
	case errors.As(err, &refused) && guessed:
		hint = "AWS refused the credentials: if the role is a session_token role, AWS never takes its credentials " +
			"for console sign-in; use an assumed_role or federation_token role (set --type to say which it is)"
	case errors.As(err, &refused) && kind == console.AssumedRole && o.duration > time.Hour:
		hint = "a role assumed with other role credentials (role chaining, such as Vault running on an instance role) " +
			"gets at most a 1h console session: try --duration 1h"
	case errors.As(err, &refused):
		hint = "AWS refused the credentials: check that they work (`aws sts get-caller-identity` with them) and --federation-endpoint"
	case errors.As(err, &stsErr) && stsErr.Code == "AccessDenied":
		hint = "the IAM user may not call sts:GetFederationToken: allow it in the Vault role's policy_document " +
			"(or the static user's policies), or sign in with an assumed_role or federation_token role"
	case errors.As(err, &stsErr) && stsErr.Code == "InvalidClientTokenId":
		hint = "IAM had not made the new access key known to STS yet (this takes a few seconds): run login again"
	case errors.As(err, &stsErr) && strings.Contains(stsErr.Code, "Policy"):
		hint = "check --policy and --policy-arn"
	}
	return &process.Error{Code: process.ExitFailure, Msg: "login: " + err.Error(), Hint: hint, Err: err}
}
