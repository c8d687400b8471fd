package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/awsconfig"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// The checks of `doctor`. They ask Vault only through what the Vault client
// exports for them (internal/vault/doctor.go). The checks
// of the request itself (mount, role, credentials) are in doctorrequest.go.

// Check is one line of `doctor`'s checklist.
type Check struct {
	Name   string
	OK     bool
	Detail string
	Hint   string // what to do, for a failed check
	// Skipped says the check was not made (Detail says why): neither a
	// pass nor a failure.
	Skipped bool
}

// Failed reports a check that was made and failed.
func (c Check) Failed() bool { return !c.OK && !c.Skipped }

// maxClockSkew is how far the local clock may be from Vault's before doctor
// complains: cached expiry times are compared with the local clock, and AWS
// rejects request signatures more than five minutes off.
const maxClockSkew = time.Minute

// doctorRun holds what the checks of the `doctor` command need.
type doctorRun struct {
	// Settings are the resolved settings; nil when they did not resolve.
	Settings *config.Settings
	// ResolveErr is why Settings is nil, if it is.
	ResolveErr error
	// HasRequest is whether the command line or profile named a role, so
	// that the request itself can be checked.
	HasRequest bool
	// Fetch, when set (--fetch), gets the credentials as a run does.
	Fetch      func(ctx context.Context) (*process.Credentials, process.CredentialSource, error)
	ConfigPath string
	Getenv     func(string) string
	Now        func() time.Time
	// Stderr receives what a browser login says without a terminal.
	Stderr io.Writer
	// Program is the base name AWS profiles must run to count as ours.
	Program string
	// Out receives each check's lines as the check finishes, and a line
	// for a check that has waited WaitNotice; nil prints nothing.
	Out        io.Writer
	WaitNotice time.Duration

	mu       sync.Mutex // orders the lines of Out
	checks   []Check
	roleType string // the role's credential_type, once the role check read it
	// mountUnsure says the mount check could not tell a wrong mount from a
	// token whose policy allows nothing there.
	mountUnsure bool
}

// Run performs every check, in the order a user would fix them, and
// returns them. Checks of Vault that cannot mean anything after an earlier
// failure (the token when Vault was not reached, the policy when the token
// was refused) are reported as not checked, so each failure shows once.
func (d *doctorRun) Run(ctx context.Context) []Check {
	if d.ResolveErr != nil {
		c := Check{Name: "configuration", Detail: config.OneLine(d.ResolveErr.Error())}
		var ce *config.Error
		if errors.As(d.ResolveErr, &ce) {
			c.Hint = ce.Hint
		}
		d.emit(c)
		d.emit(d.awsConfig())
		return d.checks
	}
	s := d.Settings
	if d.ConfigPath != "" {
		d.emit(Check{Name: "configuration", OK: true, Detail: "read " + d.ConfigPath + profileText(s.Profile)})
	} else {
		d.emit(Check{Name: "configuration", OK: true, Detail: "no configuration file; flags, environment and defaults" + profileText(s.Profile)})
	}
	reached := d.server(ctx, s)
	v, unusable := d.token(ctx, s, reached)
	if d.HasRequest {
		d.request(ctx, s, v, unusable)
	}
	d.emit(d.cache(s))
	if d.Fetch != nil {
		d.emit(d.step(ctx, s.RunTimeout(), "credentials", "credentials (the cache, then Vault at "+s.DisplayAddress()+")", d.credentials))
	}
	d.emit(d.awsConfig())
	return d.checks
}

// emit records c and prints its line, and its hint when it failed.
func (d *doctorRun) emit(c Check) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checks = append(d.checks, c)
	if d.Out == nil {
		return
	}
	// A check's text quotes Vault, the configuration and the environment:
	// printed through process.Printable, one line each, never raw.
	mark := "✓"
	switch {
	case c.Skipped:
		mark = "-"
	case !c.OK:
		mark = "✗"
	}
	line := fmt.Sprintf("%s %s: %s\n", mark, process.Printable(c.Name), process.Printable(c.Detail))
	if hint := process.Printable(c.Hint); c.Failed() && hint != "" {
		line += "  hint: " + hint + "\n"
	}
	io.WriteString(d.Out, line)
}

// step runs one check within limit. When it has not finished after
// WaitNotice, a line says what it waits for and for how long at most, so
// that doctor never sits silent on a Vault that accepts and never answers.
func (d *doctorRun) step(ctx context.Context, limit time.Duration, name, waitingFor string, check func(context.Context) Check) Check {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var once sync.Once // the notice, or nothing once the check is over
	if d.Out != nil && d.WaitNotice > 0 {
		t := time.AfterFunc(d.WaitNotice, func() {
			once.Do(func() {
				d.mu.Lock()
				defer d.mu.Unlock()
				fmt.Fprintf(d.Out, "… %s: waiting for %s (at most %s, --timeout)\n", name, process.Printable(waitingFor), limit)
			})
		})
		defer t.Stop()
	}
	c := check(ctx)
	once.Do(func() {})
	return c
}

func profileText(p string) string {
	if p == "" {
		return ""
	}
	return " (profile " + p + ")"
}

// server checks Vault's health and, when Vault answered, the clock; it
// reports whether Vault can be asked anything more.
func (d *doctorRun) server(ctx context.Context, s *config.Settings) bool {
	var health *vault.HealthInfo
	var asked time.Time
	c := d.step(ctx, s.Timeout, "vault server", "Vault at "+s.DisplayAddress()+" to answer sys/health", func(ctx context.Context) Check {
		var c Check
		health, asked, c = d.health(ctx, s)
		return c
	})
	d.emit(c)
	if health != nil {
		d.emit(d.clock(health, asked))
	}
	return c.OK
}

// health asks sys/health, which answers without a token and with a status
// code per state (sealed 503, standby 429, ...); the body says the rest.
// The local time it was asked at is returned with it, for the clock check.
func (d *doctorRun) health(ctx context.Context, s *config.Settings) (*vault.HealthInfo, time.Time, Check) {
	c := Check{Name: "vault server"}
	h, status, err := vault.Health(ctx, s, vault.Options{Getenv: d.Getenv})
	asked := d.Now()
	var pe *process.Error
	switch {
	case errors.As(err, &pe) && pe.Code == process.ExitFailure:
		// The message says "reach Vault: ..." and names the address, or
		// not (a DNS failure names the host).
		c.Detail, c.Hint = strings.TrimPrefix(pe.Msg, "reach Vault: "), pe.Hint
		if !strings.Contains(c.Detail, s.DisplayAddress()) {
			c.Detail = s.DisplayAddress() + ": " + c.Detail
		}
		return nil, asked, c
	case err != nil:
		c.Detail, c.Hint = config.OneLine(err.Error()), "check VAULT_ADDR and the TLS variables"
		return nil, asked, c
	case h == nil:
		c.Detail = fmt.Sprintf("%s answered sys/health with status %d, not as Vault answers: this is not a Vault server", s.DisplayAddress(), status)
		c.Hint = "set VAULT_ADDR (or vault.address in the configuration) to your Vault's address, the one `vault status` reaches"
		return nil, asked, c
	case !h.Initialized:
		c.Detail, c.Hint = s.DisplayAddress()+" is not initialized", "ask Vault's operators to initialize it"
	case h.Sealed:
		c.Detail, c.Hint = s.DisplayAddress()+" is sealed (Vault "+h.Version+")", "ask Vault's operators to unseal it"
	default:
		c.OK = true
		c.Detail = fmt.Sprintf("%s is reachable and unsealed, Vault %s", s.DisplayAddress(), h.Version)
		if h.Standby {
			c.Detail += " (standby)"
		}
	}
	return h, asked, c
}

// token finds the token (or logs in) and, when Vault was reached, looks it
// up. unusable says why the token cannot be used for the checks of the
// request; "" when it can.
func (d *doctorRun) token(ctx context.Context, s *config.Settings, reached bool) (v *vault.Vault, unusable string) {
	waitingFor := "Vault at " + s.DisplayAddress() + " to look up the token"
	if !s.Auth.IsToken() {
		waitingFor = "the " + s.Auth.Describe() + " login"
	}
	c := d.step(ctx, s.RunTimeout(), "vault token", waitingFor, func(ctx context.Context) Check {
		var err error
		// Finding the token is local (a variable, a file, a token helper):
		// its failure is worth a line even when Vault is down.
		if v, err = vault.New(ctx, s, vaultOptions(d.Now, nil, d.Getenv, d.Stderr)); err != nil {
			return failedCheck("vault token", err)
		}
		if !reached {
			return Check{Name: "vault token", Skipped: true, Detail: "from " + v.TokenSource + ", not checked: Vault was not reached"}
		}
		return d.lookupToken(ctx, v)
	})
	d.emit(c)
	switch {
	case !reached:
		return v, "Vault was not reached"
	case v == nil:
		return v, "no Vault token"
	case c.OK || strings.HasPrefix(c.Hint, tokenExpiresSoon):
		// A token about to expire is a failure worth fixing, but works now.
		return v, ""
	}
	return v, "the token check failed"
}

// failedCheck is a check that failed with err, whose hint it carries when
// it has one.
func failedCheck(name string, err error) Check {
	c := Check{Name: name, Detail: config.OneLine(err.Error())}
	var pe *process.Error
	if errors.As(err, &pe) {
		c.Hint = pe.Hint
	}
	return c
}

const tokenExpiresSoon = "the token expires soon"

func (d *doctorRun) lookupToken(ctx context.Context, v *vault.Vault) Check {
	c := Check{Name: "vault token"}
	// With an auth method, the token is the stored login token or a new login.
	if err := v.Login(ctx); err != nil {
		return failedCheck("vault token", err)
	}
	secret, err := v.LookupSelf(ctx)
	if err != nil {
		return tokenLookupFailed(ctx, v, err)
	}
	ttl, _ := secret.TokenTTL()
	policies, _ := secret.TokenPolicies()
	c.OK = true
	life := "never expires"
	if ttl > 0 {
		life = "valid for " + ttl.Round(time.Second).String()
	}
	c.Detail = fmt.Sprintf("from %s, %s, policies %s", v.TokenSource, life, strings.Join(policies, ", "))
	if ttl > 0 && ttl < 10*time.Minute {
		c.OK = false
		c.Hint = tokenExpiresSoon + ": run `vault login` (or renew it with `vault token renew`)"
	}
	return c
}

// tokenLookupFailed says why lookup-self failed. Only a 4xx answer from
// Vault says something about the token: when Vault was not reached (refused,
// timed out, TLS, DNS) or could not answer (5xx, 429), the token is reported
// as not checked, with a hint about the address and the network, not as
// invalid, which would send the user to `vault login` for nothing.
func tokenLookupFailed(ctx context.Context, v *vault.Vault, err error) Check {
	c := Check{Name: "vault token"}
	timeout := ctx.Err() != nil
	var re *api.ResponseError
	answered := errors.As(err, &re) && !timeout
	what := "from " + v.TokenSource + ", not checked"
	switch {
	case answered && !vault.Unavailable(err):
		ve := vault.Explain(err, "look up the token from "+v.TokenSource, "auth/token/lookup-self", v.Address(), false)
		c.Detail = ve.Msg
		c.Hint = "the token is invalid or expired: run `vault login`, or set VAULT_TOKEN; a valid token made without the default policy needs auth/token/lookup-self (see the README's Vault policy)"
	case answered:
		ve := vault.Explain(err, what, "auth/token/lookup-self", v.Address(), false)
		c.Detail = ve.Msg
		c.Hint = "Vault could not answer, so the token was not checked: " + ve.Hint
	case timeout || vault.Unavailable(err):
		ve := vault.Explain(err, what+", Vault was not reached", "auth/token/lookup-self", v.Address(), timeout)
		c.Detail = ve.Msg
		c.Hint = ve.Hint
		if c.Hint == "" {
			c.Hint = "check VAULT_ADDR and the network"
		}
		c.Hint = "the token could not be checked because Vault was not reached: " + c.Hint
	default: // reached, but the answer was not usable
		ve := vault.Explain(err, what, "auth/token/lookup-self", v.Address(), false)
		c.Detail, c.Hint = ve.Msg, ve.Hint
	}
	return c
}

func (d *doctorRun) capabilities(ctx context.Context, v *vault.Vault, s *config.Settings) Check {
	path, static := process.CredentialsPath(s)
	c := Check{Name: "vault policy"}
	caps, err := v.CapabilitiesSelf(ctx, path)
	if denied(err) {
		// The token was looked up: this is a token without Vault's
		// default policy, which allows the question.
		c.Skipped, c.Detail = true, "not checked: the token may not ask sys/capabilities-self (--fetch tries the request itself)"
		return c
	}
	if err != nil {
		ve := vault.Explain(err, "check the token's capabilities on "+path, "sys/capabilities-self", v.Address(), ctx.Err() != nil)
		c.Detail, c.Hint = ve.Msg, ve.Hint
		return c
	}
	need := "update"
	if static {
		need = "read"
	}
	if slices.Contains(caps, "root") || slices.Contains(caps, need) || (need == "update" && slices.Contains(caps, "create")) {
		c.OK = true
		c.Detail = fmt.Sprintf("the token may %s %s (%s)", need, path, strings.Join(caps, ", "))
		return c
	}
	c.Detail = fmt.Sprintf("the token may not %s %s (capabilities: %s)", need, path, strings.Join(caps, ", "))
	c.Hint = fmt.Sprintf(`ask for a policy with: path "%s" { capabilities = ["%s"] }`, path, need)
	if d.mountUnsure {
		c.Hint += ", or check --mount: `vault secrets list` shows the mounts"
	}
	return c
}

func (d *doctorRun) clock(h *vault.HealthInfo, asked time.Time) Check {
	c := Check{Name: "clock"}
	if h.ServerTime == 0 {
		c.OK, c.Detail = true, "Vault did not say its time; not checked"
		return c
	}
	skew := asked.Sub(time.Unix(h.ServerTime, 0))
	if skew < 0 {
		skew = -skew
	}
	c.Detail = fmt.Sprintf("local clock within %s of Vault's", skew.Round(time.Second))
	if skew <= maxClockSkew {
		c.OK = true
		return c
	}
	c.Detail = fmt.Sprintf("local clock is %s off Vault's", skew.Round(time.Second))
	c.Hint = "synchronise the clock (NTP): expiry times and AWS request signatures depend on it"
	return c
}

func (d *doctorRun) cache(s *config.Settings) Check {
	c := Check{Name: "cache"}
	if s.CacheDisabled {
		c.OK, c.Detail = true, "disabled"
		return c
	}
	st, err := cache.Open(s.CacheDir)
	if err != nil {
		ce := process.CacheError(err)
		c.Detail, c.Hint = ce.Msg, ce.Hint
		return c
	}
	entries, err := st.List()
	if err != nil {
		c.Detail, c.Hint = config.OneLine(err.Error()), "check the folder's permissions"
		return c
	}
	c.OK = true
	plural := "entries"
	if len(entries) == 1 {
		plural = "entry"
	}
	c.Detail = fmt.Sprintf("%s (mode 0700, yours), %d %s", st.Dir(), len(entries), plural)
	return c
}

func (d *doctorRun) awsConfig() Check {
	c := Check{Name: "aws config"}
	path, err := awsconfig.Path(d.Getenv)
	if err != nil {
		c.Detail, c.Hint = config.OneLine(err.Error()), "set AWS_CONFIG_FILE"
		return c
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.Detail = "cannot read " + path + ": " + config.PathReason(err)
		c.Hint = "add a profile with `vault-credential-process aws-config --profile NAME --write`"
		return c
	}
	found := awsconfig.FindCredentialProcess(data, d.Program)
	if len(found) == 0 {
		c.Detail = "no profile in " + path + " runs " + d.Program
		c.Hint = "add one with `vault-credential-process aws-config --profile NAME --write`"
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("%s: profile %s runs %s", path, strings.Join(found, ", "), d.Program)
	return c
}
