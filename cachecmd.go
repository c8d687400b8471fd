package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

const cacheUsage = `Usage:
  vault-credential-process cache list [--json] [--cache-dir PATH] [--config PATH]
  vault-credential-process cache clear [--all | request flags] [--revoke]

list shows one row per cache entry: the profile or request, where the
credentials came from, when they expire and whether they are fresh. It never
shows a secret; --json prints the same as a JSON array.

clear removes the entry of the request the flags describe (such as
--profile dev), or every entry and stored Vault login token with --all. With --revoke it first revokes
their leases in Vault: for iam_user credentials Vault then deletes the IAM
user; STS credentials stay valid until they expire whatever Vault does.

Examples:
  vault-credential-process cache list
  vault-credential-process cache clear --profile dev --revoke
  vault-credential-process cache clear --all
`

func (c *cli) cache(ctx context.Context, args []string) int {
	if len(args) == 0 || isHelp(args[0]) {
		return c.helpText(cacheUsage)
	}
	switch args[0] {
	case "list":
		return c.cacheList(args[1:])
	case "clear":
		return c.cacheClear(ctx, args[1:])
	}
	return c.report(usageError(fmt.Sprintf("cache: unknown command %q (list or clear)", args[0])))
}

// listed is a cache entry as `cache list --json` shows it.
type listed struct {
	Key          string     `json:"key"`
	State        string     `json:"state"` // fresh, stale, expired, unreadable
	Profile      string     `json:"profile,omitempty"`
	VaultAddress string     `json:"vault_address,omitempty"`
	Mount        string     `json:"mount,omitempty"`
	Role         string     `json:"role,omitempty"`
	Type         string     `json:"type,omitempty"`
	Source       string     `json:"source,omitempty"`
	IssuedAt     *time.Time `json:"issued_at,omitempty"`
	Expiration   *time.Time `json:"expiration,omitempty"`
	ExpiresIn    int64      `json:"expires_in_seconds"`
}

func (c *cli) openCache(flags map[string]string) (*cache.Store, *config.Settings, error) {
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

func (c *cli) cacheList(args []string) int {
	fs := flagSet("cache list", false, config.IDCacheDir, config.IDConfig, config.IDRefreshWindow)
	asJSON := fs.Bool("json", false, "")
	flags, code, done := c.parseCommand(fs, args, "cache list", cacheUsage, false)
	if done {
		return code
	}
	delete(flags, "json")
	st, s, err := c.openCache(flags)
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
	if *asJSON {
		out, _ := json.MarshalIndent(rows, "", "  ")
		fmt.Fprintf(c.stdout, "%s\n", out)
		return exitOK
	}
	if len(rows) == 0 {
		fmt.Fprintf(c.stdout, "no cache entries in %s\n", st.Dir())
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE/REQUEST\tTYPE\tSOURCE\tEXPIRES\tIN\tSTATE")
	for _, r := range rows {
		if r.State == "unreadable" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t%s\n", r.Key[:12], r.State)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", process.Printable(what), process.Printable(typ), process.Printable(r.Source), r.Expiration.Local().Format("2006-01-02 15:04:05"),
			(time.Duration(r.ExpiresIn) * time.Second).String(), r.State)
	}
	tw.Flush()
	return exitOK
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
	r.Profile, r.VaultAddress = e.Request["profile"], config.RedactAddress(e.Request["vault_address"])
	r.Mount, r.Role, r.Type, r.Source = e.Request["mount"], e.Request["role"], e.Request["type"], e.Source
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
	fs := flagSet("cache clear", true)
	all := fs.Bool("all", false, "")
	revoke := fs.Bool("revoke", false, "")
	flags, code, done := c.parseCommand(fs, args, "cache clear", cacheUsage, false)
	if done {
		return code
	}
	delete(flags, "all")
	delete(flags, "revoke")
	if *all && (flags[config.IDRole.Setting().Name] != "" || flags[config.IDProfile.Setting().Name] != "") {
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
	case *all:
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
	cl := &clearing{cli: c, st: s, store: st, revoke: *revoke, here: vaultOf(s.Address, s.Namespace)}
	for _, key := range keys {
		cl.entry(ctx, key)
	}
	if *all {
		cl.loginTokens(ctx)
	}
	if err := cl.err(); err != nil {
		return c.report(err)
	}
	for _, line := range cl.revoked {
		fmt.Fprintln(c.stdout, line)
	}
	if !*all && cl.removed == 0 && cl.temps == 0 {
		fmt.Fprintf(c.stdout, "no cache entry for this request in %s\n", st.Dir())
		return exitOK
	}
	fmt.Fprintf(c.stdout, "removed %s", plural(cl.removed, "cache entry", "cache entries"))
	if cl.temps > 0 {
		fmt.Fprintf(c.stdout, ", %s", plural(cl.temps, "unfinished write", "unfinished writes"))
	}
	if *all {
		fmt.Fprintf(c.stdout, " and %s", plural(cl.tokens, "login token", "login tokens"))
	}
	fmt.Fprintf(c.stdout, " from %s\n", st.Dir())
	return exitOK
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
	here   string // the Vault (address and namespace) this run resolved
	vault  *process.Vault

	removed, temps, tokens int
	revoked                []string
	failures               []error
	// others counts the entries with leases of other Vaults, which were
	// kept: revoking them would send this run's token elsewhere.
	others map[string]int
}

// vaultOf names a Vault for comparison: the address normalized and without
// a password (stored entries hold it so), and the namespace.
func vaultOf(addr, namespace string) string {
	v := process.NormalizeAddress(config.RedactAddress(addr))
	if namespace != "" {
		v += " (namespace " + namespace + ")"
	}
	return v
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
		cl.failures = append(cl.failures, &process.Error{Code: exitFailure, Err: err,
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
		if at := vaultOf(e.Request["vault_address"], e.Request["vault_namespace"]); e.Request["vault_address"] == "" || at != cl.here {
			if cl.others == nil {
				cl.others = map[string]int{}
			}
			cl.others[at]++
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
		v, err := process.NewVault(ctx, cl.st, time.Now, cl.cli.debugf)
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
	cl.revoked = append(cl.revoked, fmt.Sprintf("revoked lease %s (%s)", e.LeaseID, what))
	return nil
}

// loginTokens removes the stored login tokens (--all) and the unfinished
// writes no entry or token claims (an older version's).
func (cl *clearing) loginTokens(ctx context.Context) {
	names, err := cl.store.Blobs(process.LoginTokenPrefix)
	if err != nil {
		cl.failures = append(cl.failures, err)
		return
	}
	for _, n := range names {
		// Under the token's lock, as a login replaces it: a login running
		// now cannot write it back, nor lose its unfinished write.
		unlock, err := cl.lock(ctx, process.LoginLockKey(n))
		if err == nil {
			err = cl.store.RemoveBlob(n)
			unlock()
		}
		if err != nil {
			cl.failures = append(cl.failures, err)
			continue
		}
		cl.tokens++
	}
	n, err := cl.store.RemoveStrayTemps()
	cl.temps += n
	if err != nil {
		cl.failures = append(cl.failures, err)
	}
}

// err sums up what went wrong in one error with one hint, or nil.
func (cl *clearing) err() error {
	done := fmt.Sprintf("removed %s", plural(cl.removed, "entry", "entries"))
	if len(cl.revoked) > 0 {
		done = fmt.Sprintf("revoked %s and %s", plural(len(cl.revoked), "lease", "leases"), done)
	}
	if len(cl.failures) > 0 {
		first := cl.failures[0]
		e := &process.Error{Code: exitFailure, Err: first,
			Msg: fmt.Sprintf("cache clear: %s (%s failed; %s)", first.Error(), plural(len(cl.failures), "entry", "entries"), done)}
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
		vaults := make([]string, 0, len(cl.others))
		kept := 0
		for v, n := range cl.others {
			vaults = append(vaults, v)
			kept += n
		}
		sort.Strings(vaults)
		how := "VAULT_ADDR=" + strings.SplitN(vaults[0], " ", 2)[0]
		if ns := namespaceOf(vaults[0]); ns != "" {
			how += " VAULT_NAMESPACE=" + ns
		}
		more := ""
		if len(vaults) > 1 {
			more = fmt.Sprintf(" (and likewise for the other %d; `cache list --json` shows each entry's vault_address)", len(vaults)-1)
		}
		return &process.Error{Code: exitFailure,
			Msg: fmt.Sprintf("cache clear: kept %s with leases of another Vault than %s, not revoked: %s (%s)",
				plural(kept, "entry", "entries"), cl.here, strings.Join(vaults, ", "), done),
			Hint: fmt.Sprintf("revoke them at their own Vault with that Vault's token: %s %s cache clear --all --revoke%s; or drop them without revoking: cache clear --all",
				how, name, more)}
	}
	return nil
}

// namespaceOf is the namespace part of a vaultOf name.
func namespaceOf(v string) string {
	_, ns, ok := strings.Cut(v, " (namespace ")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(ns, ")")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
