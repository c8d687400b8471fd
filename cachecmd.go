package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
	"github.com/vault-credential-process/vault-credential-process/internal/console"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/process"
)

func (c *cli) cache(ctx context.Context, args []string) int {
	if code, ok := c.subcommand(ctx, cmdspec.Cache, args); ok {
		return code
	}
	return c.report(usageError(fmt.Sprintf("cache: unknown command %q (list or clear)", args[0])))
}

// listed is a cache entry as `cache list --json` shows it.
type listed struct {
	Key          string `json:"key"`
	State        string `json:"state"` // fresh, stale, expired, unreadable
	Profile      string `json:"profile,omitempty"`
	VaultAddress string `json:"vault_address,omitempty"`
	Mount        string `json:"mount,omitempty"`
	Role         string `json:"role,omitempty"`
	Type         string `json:"type,omitempty"`
	// The rest of the request, where set: two entries of one role differ
	// in these (and in the Vault address and namespace).
	RoleARN         string     `json:"role_arn,omitempty"`
	RoleSessionName string     `json:"role_session_name,omitempty"`
	TTL             string     `json:"ttl,omitempty"` // as the configuration writes it: 15m, 1h30m
	VaultNamespace  string     `json:"vault_namespace,omitempty"`
	Source          string     `json:"source,omitempty"`
	IssuedAt        *time.Time `json:"issued_at,omitempty"`
	Expiration      *time.Time `json:"expiration,omitempty"`
	ExpiresIn       int64      `json:"expires_in_seconds"`
}

func (c *cli) openCache(flags *config.Flags) (*cache.Store, *config.Settings, error) {
	s, err := c.settings(flags, true)
	if err != nil {
		return nil, nil, err
	}
	st, err := cache.Open(s.CacheDir)
	if err != nil {
		return nil, nil, process.CacheError(err)
	}
	return st, s, nil
}

func (c *cli) cacheList(_ context.Context, args []string) int {
	var asJSON bool
	fs := newFlagSet(cmdspec.CacheList)
	fs.boolVar(&asJSON, &cmdspec.CacheListJSON)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	st, s, err := c.openCache(&fs.settings)
	if err != nil {
		return c.report(err)
	}
	entries, err := st.List()
	if err != nil {
		return c.report(err)
	}
	now := time.Now()
	rows := make([]listed, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, describe(e, now, s.RefreshWindow))
	}
	if asJSON {
		out, _ := json.MarshalIndent(rows, "", "  ")
		fmt.Fprintf(c.stdout, "%s\n", out)
		return process.ExitOK
	}
	if len(rows) == 0 {
		fmt.Fprintf(c.stdout, "no cache entries in %s\n", st.Dir())
		return process.ExitOK
	}
	c.listTable(rows)
	return process.ExitOK
}

// listTable prints rows as a table. The last column holds what else tells
// two requests of one profile or role apart: role_arn, role_session_name,
// ttl and the namespace where set, and the Vault address when the entries
// are of more than one.
func (c *cli) listTable(rows []listed) {
	addrs := map[string]bool{}
	for _, r := range rows {
		if r.State != "unreadable" {
			addrs[r.VaultAddress] = true
		}
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE/REQUEST\tTYPE\tSOURCE\tEXPIRES\tIN\tSTATE\tOPTIONS")
	for _, r := range rows {
		if r.State == "unreadable" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t%s\t\n", r.Key[:12], r.State)
			continue
		}
		what := r.Profile
		if what == "" {
			what = r.Mount + "/" + r.Role
		}
		typ := r.Type
		if typ == "" {
			typ = "(role's)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", process.Printable(what), process.Printable(typ), process.Printable(r.Source),
			r.Expiration.Local().Format("2006-01-02 15:04:05"), (time.Duration(r.ExpiresIn) * time.Second).String(), r.State,
			r.options(len(addrs) > 1))
	}
	tw.Flush()
	// The padding of a last column that is empty would end lines in spaces.
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if line != "" {
			fmt.Fprintln(c.stdout, strings.TrimRight(line, " \n"))
		}
	}
}

// options are the request settings of r that tell it apart from another
// request of its profile or role, as key=value in the configuration's
// names; the address too with withAddress.
func (r listed) options(withAddress bool) string {
	var out []string
	for _, kv := range [][2]string{{"role_arn", r.RoleARN}, {"role_session_name", r.RoleSessionName}, {"ttl", r.TTL},
		{"vault_namespace", r.VaultNamespace}} {
		if kv[1] != "" {
			out = append(out, kv[0]+"="+optionValue(kv[1]))
		}
	}
	if withAddress {
		out = append(out, "vault_address="+optionValue(r.VaultAddress))
	}
	return strings.Join(out, " ")
}

// optionValue is v printable, and quoted when a space, quote or "=" in it
// would blur where it ends.
func optionValue(v string) string {
	v = process.Printable(v)
	if v == "" || strings.ContainsAny(v, " \"=") {
		return strconv.Quote(v)
	}
	return v
}

func describe(l cache.Listed, now time.Time, refresh time.Duration) listed {
	r := listed{Key: l.Key, State: "unreadable"}
	e := l.Entry
	if e == nil {
		return r
	}
	issued, exp := e.IssuedAt, e.Expiration
	r.IssuedAt, r.Expiration = &issued, &exp
	// Entries of older versions may hold an address with a password.
	req := process.StoredRequestOf(e)
	r.Profile, r.VaultAddress = req.Profile, config.RedactAddress(req.VaultAddress)
	r.Mount, r.Role, r.Type, r.Source = req.Mount, req.Role, req.Type, e.Source
	r.RoleARN, r.RoleSessionName, r.VaultNamespace = req.RoleARN, req.RoleSessionName, req.VaultNamespace
	r.TTL = req.TTL
	if d, err := time.ParseDuration(r.TTL); err == nil {
		r.TTL = console.FormatDuration(d) // stored as Go writes it: 15m0s
	}
	r.ExpiresIn = int64(exp.Sub(now).Round(time.Second) / time.Second)
	switch {
	case !exp.After(now):
		r.State, r.ExpiresIn = "expired", 0
	case (cache.Policy{RefreshWindow: refresh}).Fresh(e, now):
		r.State = "fresh"
	default:
		r.State = "stale"
	}
	return r
}

func (c *cli) cacheClear(ctx context.Context, args []string) int {
	var all, revoke bool
	fs := newFlagSet(cmdspec.CacheClear)
	fs.boolVar(&all, &cmdspec.CacheClearAll)
	fs.boolVar(&revoke, &cmdspec.CacheClearRevoke)
	if code, done := c.parseCommand(fs, args); done {
		return code
	}
	flags := &fs.settings
	if all && (flags[config.IDRole] != "" || flags[config.IDProfile] != "") {
		// Flags only: a profile or role from the environment must not make
		// --all a usage error.
		return c.report(usageError("cache clear: --all and a request (--profile, --role) exclude each other"))
	}
	st, s, err := c.openCache(flags)
	if err != nil {
		return c.report(err)
	}
	var keys []string
	switch {
	case all:
		// Keys with only an unfinished write too: it may hold secrets.
		if keys, err = st.Keys(); err != nil {
			return c.report(err)
		}
	case s.Role != "":
		key, err := c.runner(s).Key()
		if err != nil {
			return c.report(err)
		}
		keys = []string{key}
	default:
		return c.report(&config.Error{Msg: "cache clear: say which entries",
			Hint: "pass --profile NAME (or --role and the other request flags) for one entry, or --all"})
	}

	ctx, cancel := context.WithTimeout(ctx, s.RunTimeout())
	defer cancel()
	cl := &clearing{cli: c, st: s, store: st, revoke: revoke, here: vaultOf(s.Address, s.Namespace)}
	for _, key := range keys {
		cl.entry(ctx, key)
	}
	if all {
		cl.loginTokens(ctx)
	}
	if err := cl.err(); err != nil {
		return c.report(err)
	}
	for _, line := range cl.lines {
		fmt.Fprintln(c.stdout, line)
	}
	if !all && cl.removed == 0 && cl.temps == 0 {
		fmt.Fprintf(c.stdout, "no cache entry for this request in %s\n", st.Dir())
		return process.ExitOK
	}
	fmt.Fprintf(c.stdout, "removed %s", plural(cl.removed, "cache entry", "cache entries"))
	if cl.temps > 0 {
		fmt.Fprintf(c.stdout, ", %s", plural(cl.temps, "unfinished write", "unfinished writes"))
	}
	if all {
		fmt.Fprintf(c.stdout, " and %s", plural(cl.tokens, "login token", "login tokens"))
	}
	fmt.Fprintf(c.stdout, " from %s\n", st.Dir())
	return process.ExitOK
}

// clearing is one `cache clear` run: what it removed, revoked, kept and
// why. Nothing reaches stdout unless all of it went well (stdout is one
// document, empty on failure); a failure is one error line that counts
// what was done.
type clearing struct {
	cli    *cli
	st     *config.Settings
	store  *cache.Store
	revoke bool
	here   vaultID // the Vault this run resolved
	vault  *vault.Vault

	removed, temps, tokens int
	leases, loginsRevoked  int      // revoked in Vault
	lines                  []string // for stdout: what was revoked
	failures               []error
	tokenFailures          int // how many of failures are login tokens'
	// others counts what was kept because it belongs to another Vault:
	// revoking there would send this run's token (or the stored one)
	// elsewhere.
	others map[vaultID]kept
}

// kept counts the entries with leases and the login tokens of one Vault
// that a run kept.
type kept struct{ entries, tokens int }

// vaultID names a Vault for comparison: the address normalized and without
// a password (stored entries hold it so), and the namespace.
type vaultID struct{ addr, namespace string }

func vaultOf(addr, namespace string) vaultID {
	if addr == "" {
		return vaultID{namespace: namespace}
	}
	return vaultID{process.NormalizeAddress(config.RedactAddress(addr)), namespace}
}

func (v vaultID) String() string {
	s := v.addr
	if s == "" {
		s = "(address not recorded)"
	}
	if v.namespace != "" {
		s += " (namespace " + v.namespace + ")"
	}
	return s
}

// keep records an entry (or login token) of the Vault at, kept.
func (cl *clearing) keep(at vaultID, token bool) {
	if cl.others == nil {
		cl.others = map[vaultID]kept{}
	}
	k := cl.others[at]
	if token {
		k.tokens++
	} else {
		k.entries++
	}
	cl.others[at] = k
}

// lock takes the lock key within ctx. Once ctx is over (another process
// held some lock until --timeout), each remaining lock is only tried for a
// moment: one held lock must not keep every other entry.
func (cl *clearing) lock(ctx context.Context, key string) (func(), error) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
	}
	return cl.store.Lock(ctx, key)
}

// entry revokes (with --revoke) and removes one entry, holding its lock so
// that a run renewing it cannot write the revoked keys back.
func (cl *clearing) entry(ctx context.Context, key string) {
	unlock, err := cl.lock(ctx, key)
	if errors.Is(err, context.DeadlineExceeded) {
		cl.failures = append(cl.failures, &process.Error{Code: process.ExitFailure, Err: err,
			Msg:  "wait for the lock of cache entry " + key[:12] + ": another vault-credential-process held it until --timeout",
			Hint: "a process may be stuck asking Vault: check it, or raise --timeout"})
		return
	}
	if err != nil {
		cl.failures = append(cl.failures, err)
		return
	}
	defer unlock()
	// Load refuses an unsafe entry; it is removed all the same, but never
	// revoked: its lease id is not to be trusted.
	e, lerr := cl.store.Load(key)
	if lerr != nil {
		cl.cli.debugf("%v", lerr)
	}
	if cl.revoke && e != nil && e.LeaseID != "" {
		req := process.StoredRequestOf(e)
		if at := vaultOf(req.VaultAddress, req.VaultNamespace); at.addr == "" || at != cl.here {
			cl.keep(at, false)
			return // kept: its lease is live at a Vault this run has no token for
		}
		if err := cl.revokeLease(ctx, e); err != nil {
			cl.failures = append(cl.failures, err)
			return // kept: its lease is still live
		}
	}
	n, err := cl.store.RemoveTemps(key)
	cl.temps += n
	if err == nil {
		var gone bool
		gone, err = cl.store.Remove(key)
		if gone {
			cl.removed++
		}
	}
	if err != nil {
		cl.failures = append(cl.failures, err)
	}
}

// revokeLease revokes a cached lease at the Vault this run resolved, with
// this run's token or login: the entry was checked to come from there.
func (cl *clearing) revokeLease(ctx context.Context, e *cache.Entry) error {
	if cl.vault == nil {
		v, err := vault.New(ctx, cl.st, vaultOptions(cache.Now, cl.cli.debugf, cl.cli.getenv, cl.cli.stderr))
		if err != nil {
			return err
		}
		cl.vault = v
	}
	if err := cl.vault.Revoke(ctx, e.LeaseID); err != nil {
		return err
	}
	what := "STS credentials stay valid until they expire"
	if e.Renewable {
		what = "Vault deletes the IAM user"
	}
	cl.leases++
	cl.lines = append(cl.lines, fmt.Sprintf("revoked lease %s (%s)", e.LeaseID, what))
	return nil
}

// loginTokens removes the stored login tokens (--all), revoking them
// first with --revoke, and the unfinished writes no entry or token claims
// (an older version's).
func (cl *clearing) loginTokens(ctx context.Context) {
	names, err := cl.store.Blobs(vault.LoginTokenPrefix)
	if err != nil {
		cl.failures = append(cl.failures, err)
		return
	}
	for _, n := range names {
		if err := cl.loginToken(ctx, n); err != nil {
			cl.failures = append(cl.failures, err)
			cl.tokenFailures++
		}
	}
	n, err := cl.store.RemoveStrayTemps()
	cl.temps += n
	if err != nil {
		cl.failures = append(cl.failures, err)
	}
}

// loginToken revokes (with --revoke) and removes one stored login token,
// under its lock, as a login replaces it: a login running now cannot write
// it back, nor lose its unfinished write.
func (cl *clearing) loginToken(ctx context.Context, name string) error {
	unlock, err := cl.lock(ctx, vault.LoginLockKey(name))
	if err != nil {
		return err
	}
	defer unlock()
	if cl.revoke {
		// A file the cache refuses is removed all the same, but never
		// revoked: its content is not to be trusted.
		sl, err := vault.LoadStoredLogin(cl.store, name)
		if err != nil {
			cl.cli.debugf("%v", err)
		}
		if sl != nil {
			if keep, err := cl.revokeLogin(ctx, sl); keep || err != nil {
				return err
			}
		}
	}
	if err := cl.store.RemoveBlob(name); err != nil {
		return err
	}
	cl.tokens++
	return nil
}

// revokeLogin revokes a stored login token with itself, only at the Vault
// this run resolved; keep says the file stays: the token is of another
// Vault, or still live after err.
func (cl *clearing) revokeLogin(ctx context.Context, sl *vault.StoredLogin) (keep bool, err error) {
	if at := vaultOf(sl.Address, sl.Namespace); at.addr == "" || at != cl.here {
		cl.keep(at, true)
		return true, nil
	}
	err = vault.RevokeStoredLogin(ctx, cl.st, sl, vaultOptions(cache.Now, cl.cli.debugf, cl.cli.getenv, cl.cli.stderr))
	switch {
	case errors.Is(err, vault.ErrLoginTokenInvalid):
		cl.lines = append(cl.lines, process.Printable(fmt.Sprintf("login token of %s was no longer valid in Vault: removed", sl)))
	case err != nil:
		return true, err
	default:
		cl.loginsRevoked++
		cl.lines = append(cl.lines, process.Printable(fmt.Sprintf("revoked login token of %s (Vault revokes the leases created with it too)", sl)))
	}
	return false, nil
}

// err sums up what went wrong in one error with one hint, or nil.
func (cl *clearing) err() error {
	done := fmt.Sprintf("removed %s", plural(cl.removed, "entry", "entries"))
	if cl.leases > 0 {
		done = fmt.Sprintf("revoked %s and %s", plural(cl.leases, "lease", "leases"), done)
	}
	if cl.loginsRevoked > 0 {
		done += fmt.Sprintf(", revoked %s", plural(cl.loginsRevoked, "login token", "login tokens"))
	}
	if len(cl.failures) > 0 {
		first := cl.failures[0]
		var failed []string
		if n := len(cl.failures) - cl.tokenFailures; n > 0 {
			failed = append(failed, plural(n, "entry", "entries"))
		}
		if cl.tokenFailures > 0 {
			failed = append(failed, plural(cl.tokenFailures, "login token", "login tokens"))
		}
		e := &process.Error{Code: process.ExitFailure, Err: first,
			Msg: fmt.Sprintf("cache clear: %s (%s failed; %s)", first.Error(), strings.Join(failed, " and "), done)}
		var pe *process.Error
		if errors.As(first, &pe) {
			e.Hint = pe.Hint
		}
		if e.Hint == "" {
			e.Hint = "fix the cause and run cache clear again; the entries that failed are kept"
		}
		return e
	}
	if len(cl.others) > 0 {
		return cl.keptError(done)
	}
	return nil
}

// keptError names the other Vaults whose entries and login tokens were
// kept, with a command that revokes them at the first: one that overrides
// every variable this run's Vault may have come from.
func (cl *clearing) keptError(done string) error {
	vaults := make([]vaultID, 0, len(cl.others))
	var total kept
	for v, k := range cl.others {
		vaults = append(vaults, v)
		total.entries += k.entries
		total.tokens += k.tokens
	}
	sort.Slice(vaults, func(i, j int) bool { return vaults[i].String() < vaults[j].String() })
	names := make([]string, len(vaults))
	for i, v := range vaults {
		names[i] = v.String()
	}
	var what []string
	if total.entries > 0 {
		what = append(what, plural(total.entries, "entry", "entries")+" with leases")
	}
	if total.tokens > 0 {
		what = append(what, plural(total.tokens, "login token", "login tokens"))
	}
	msg := fmt.Sprintf("cache clear: kept %s of another Vault than %s, not revoked: %s (%s)",
		strings.Join(what, " and "), cl.here, strings.Join(names, ", "), done)
	drop := "drop them without revoking: cache clear --all"
	first := vaults[0]
	if first.addr == "" {
		return &process.Error{Code: process.ExitFailure, Msg: msg,
			Hint: "entries of an older version do not name their Vault: revoke their leases with `vault lease revoke`, or " + drop}
	}
	// An empty variable counts as unset, for this helper and for vault/api.
	how := fmt.Sprintf("VAULT_AGENT_ADDR= VAULT_ADDR=%s VAULT_NAMESPACE=%s", shellWord(first.addr), shellWord(first.namespace))
	if first.namespace == "" && cl.st.Namespace != "" && strings.Trim(cl.cli.getenv("VAULT_NAMESPACE"), "/") == "" {
		// The namespace came from the configuration file, which the
		// environment cannot clear.
		how += " (with --config naming a configuration without the namespace " + cl.st.Namespace + ")"
	}
	with := ""
	if total.entries > 0 {
		with = " with that Vault's token or login"
	}
	more := ""
	if len(vaults) > 1 {
		more = fmt.Sprintf(" (and likewise for the other %d; `cache list --json` shows each entry's vault_address)", len(vaults)-1)
	}
	return &process.Error{Code: process.ExitFailure, Msg: msg,
		Hint: fmt.Sprintf("revoke them at their own Vault%s: %s %s cache clear --all --revoke%s; or %s", with, how, name, more, drop)}
}

// shellWord quotes s for a POSIX shell when it holds anything but the
// characters of a plain address or namespace.
func shellWord(s string) string {
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-[]") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
