package main

import (
	"context"
	"encoding/json"
	"fmt"
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
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
		return nil, nil, &process.Error{Code: process.ExitFailure, Msg: oneLine(err.Error()),
			Hint: "check the folder (it must be yours, mode 0700), or pass --cache-dir", Err: err}
	}
	return st, s, nil
}

func (c *cli) cacheList(args []string) int {
	fs := flagSet("cache list", false)
	for _, f := range []string{"cache-dir", "config", "refresh-window"} {
		fs.String(f, "", "")
	}
	asJSON := fs.Bool("json", false, "")
	flags, help, err := parse(fs, args)
	if help {
		return c.helpText(cacheUsage)
	}
	if err != nil {
		return c.report(err)
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
		return process.ExitOK
	}
	if len(rows) == 0 {
		fmt.Fprintf(c.stdout, "no cache entries in %s\n", st.Dir())
		return process.ExitOK
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", what, typ, r.Source, r.Expiration.Local().Format("2006-01-02 15:04:05"),
			(time.Duration(r.ExpiresIn) * time.Second).String(), r.State)
	}
	tw.Flush()
	return process.ExitOK
}

func describe(l cache.Listed, now time.Time, refresh time.Duration) listed {
	r := listed{Key: l.Key, State: "unreadable"}
	e := l.Entry
	if e == nil {
		return r
	}
	issued, exp := e.IssuedAt, e.Expiration
	r.IssuedAt, r.Expiration = &issued, &exp
	r.Profile, r.VaultAddress = e.Request["profile"], e.Request["vault_address"]
	r.Mount, r.Role, r.Type, r.Source = e.Request["mount"], e.Request["role"], e.Request["type"], e.Source
	r.ExpiresIn = int64(exp.Sub(now).Round(time.Second) / time.Second)
	switch {
	case !exp.After(now):
		r.State, r.ExpiresIn = "expired", 0
	case cache.Fresh(e, now, refresh):
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
	flags, help, err := parse(fs, args)
	if help {
		return c.helpText(cacheUsage)
	}
	if err != nil {
		return c.report(err)
	}
	delete(flags, "all")
	delete(flags, "revoke")
	st, s, err := c.openCache(flags)
	if err != nil {
		return c.report(err)
	}
	var keys []string
	switch {
	case *all && (flags["role"] != "" || flags["profile"] != ""):
		// Flags only: a profile or role from the environment must not make
		// --all a usage error.
		return c.report(usageError("cache clear: --all and a request (--profile, --role) exclude each other"))
	case *all:
		entries, err := st.List()
		if err != nil {
			return c.report(err)
		}
		for _, e := range entries {
			keys = append(keys, e.Key)
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

	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	removed, failed := 0, 0
	for _, key := range keys {
		e, err := st.Load(key)
		if err != nil {
			c.warnf("%v", err)
		}
		if *revoke && e != nil && e.LeaseID != "" {
			if err := c.revokeLease(ctx, s, e); err != nil {
				c.report(err)
				failed++
				continue // keep the entry: its lease is still live
			}
		}
		// Removed whatever it holds: a corrupt or refused entry too.
		gone, err := st.Remove(key)
		if err != nil {
			c.report(err)
			failed++
			continue
		}
		if !gone && !*all {
			fmt.Fprintf(c.stdout, "no cache entry for this request in %s\n", st.Dir())
		}
		if gone {
			removed++
		}
	}
	tokens := 0
	if *all {
		names, err := st.Blobs(process.LoginTokenPrefix)
		if err != nil {
			return c.report(err)
		}
		for _, n := range names {
			if err := st.RemoveBlob(n); err != nil {
				c.report(err)
				failed++
				continue
			}
			tokens++
		}
	}
	fmt.Fprintf(c.stdout, "removed %d cache entries", removed)
	if *all {
		fmt.Fprintf(c.stdout, " and %d login tokens", tokens)
	}
	fmt.Fprintf(c.stdout, " from %s\n", st.Dir())
	if failed > 0 {
		return process.ExitFailure
	}
	return process.ExitOK
}

// revokeLease revokes the lease of a cached entry, at the Vault that issued
// it, and says what that means for the credentials.
func (c *cli) revokeLease(ctx context.Context, s *config.Settings, e *cache.Entry) error {
	at := *s
	if a := e.Request["vault_address"]; a != "" {
		at.Address, at.Namespace = a, e.Request["vault_namespace"]
	}
	v, err := process.NewVault(&at, time.Now, c.debugf)
	if err != nil {
		return err
	}
	if err := v.Revoke(ctx, e.LeaseID); err != nil {
		return err
	}
	what := "STS credentials stay valid until they expire"
	if e.Renewable {
		what = "Vault deletes the IAM user"
	}
	fmt.Fprintf(c.stdout, "revoked lease %s (%s)\n", e.LeaseID, what)
	return nil
}
