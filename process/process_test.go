package process

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

// fakeSpec says what a fakeSource answers.
type fakeSpec struct {
	fetchCreds *Credentials
	fetchErr   error
	renewExp   time.Time
	renewErr   error
	// accessor is the accessor of the fake's token; a renewal of a lease
	// minted under another fails with ErrNotMinter.
	accessor string
	// revoked is what Revoked answers, and revokedErr its error.
	revoked    bool
	revokedErr error
}

// fakeSource stands in for Vault in Runner tests.
type fakeSource struct {
	mu sync.Mutex
	fakeSpec

	fetches, renews int
	refusedRenews   int       // renewals refused as not the minter
	deadline        time.Time // of the last Fetch's context
	lastReq         Request
	renewLease      string
	renewIncrement  time.Duration
}

func (f *fakeSource) Fetch(ctx context.Context, r Request) (*Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches++
	f.deadline, _ = ctx.Deadline()
	f.lastReq = r
	if f.fetchErr != nil {
		return nil, f.fetchErr
	}
	if f.fetchCreds == nil {
		return nil, errors.New("fakeSource: no credentials to fetch")
	}
	c := *f.fetchCreds
	return &c, nil
}

func (f *fakeSource) Renew(_ context.Context, leaseID string, increment time.Duration, minter string) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	token := f.accessor
	if token == "" {
		token = testAccessor
	}
	if minter != token {
		f.refusedRenews++
		return time.Time{}, ErrNotMinter
	}
	f.renews++
	f.renewLease, f.renewIncrement = leaseID, increment
	if f.renewErr != nil {
		return time.Time{}, f.renewErr
	}
	if f.renewExp.IsZero() {
		return time.Time{}, errors.New("fakeSource: no renewal configured")
	}
	return f.renewExp, nil
}

const (
	testAccessor = "accessorOfTheMintingToken"
	cachedKey    = "AKIACACHEDEXAMPLE"
	cachedSecret = "cachedSECRETmustNeverLeak"
	freshKey     = "AKIAFRESHEXAMPLE"
)

// entry is a cached iam_user-like entry issued at issued, expiring at exp
// (both relative to now).
func entry(issued, exp time.Duration) *cache.Entry {
	return &cache.Entry{AccessKeyID: cachedKey, SecretAccessKey: cachedSecret,
		IssuedAt: now.Add(issued), Expiration: now.Add(exp), Source: string(SourceVault)}
}

func renewable(e *cache.Entry) *cache.Entry {
	e.Renewable, e.LeaseID, e.LeaseDuration, e.TokenAccessor = true, "aws/creds/dev/cached", 3600, testAccessor
	return e
}

func withAccessor(e *cache.Entry, accessor string) *cache.Entry {
	e.TokenAccessor = accessor
	return e
}

func freshCreds() *Credentials {
	return &Credentials{AccessKeyID: freshKey, SecretAccessKey: "freshSECRET", IssuedAt: now,
		Expiration: now.Add(time.Hour), LeaseID: "aws/creds/dev/new", LeaseDuration: time.Hour, Renewable: true}
}

// vaultFailure is what Vault.Fetch returns for a failed call: an *Error
// with the status of Vault's answer (0: no answer) and the cause (see
// internal/vault's TestVaultErrorCarriesTheAnswer).
func vaultFailure(status int, cause error) error {
	return &Error{Code: ExitFailure, Msg: "get credentials from aws/creds/dev: " + cause.Error(), Status: status, Err: cause}
}

var (
	errUnavailable = vaultFailure(503, errors.New("answered 503: overloaded"))
	errRefused     = vaultFailure(0, &url.Error{Op: "Put", URL: "http://127.0.0.1:1/v1/aws/creds/dev",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}})
	errForbidden = vaultFailure(403, errors.New("answered 403: permission denied"))
	errNotFound  = vaultFailure(400, errors.New("answered 400: lease not found"))
)

// runnerFixture is a Runner over a temporary cache folder and a fakeSource.
type runnerFixture struct {
	r          *Runner
	src        *fakeSource
	newSources int
	warnings   []string
}

func newRunner(t *testing.T, flags *config.Flags, src *fakeSource) *runnerFixture {
	t.Helper()
	testenv.ClearVaultAWS(t)
	f := &config.Flags{config.IDRole: "dev", config.IDCacheDir: filepath.Join(t.TempDir(), "cache")}
	if flags != nil {
		for id, v := range flags {
			if v != "" {
				f[id] = v
			}
		}
	}
	s, err := config.Resolve(config.Inputs{Flags: f, Getenv: envOf(map[string]string{"HOME": t.TempDir()})})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	fx := &runnerFixture{src: src}
	log := &debugLog{}
	fx.r = &Runner{
		Settings: s,
		Now:      fixedNow,
		Debugf:   log.Printf,
		Warnf:    func(format string, args ...any) { fx.warnings = append(fx.warnings, format) },
		NewSource: func(context.Context) (Source, error) {
			fx.newSources++
			return src, nil
		},
	}
	t.Cleanup(func() { noSecrets(t, log.String()) })
	return fx
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func (fx *runnerFixture) store(t *testing.T) *cache.Store {
	t.Helper()
	s, err := cache.Open(fx.r.Settings.CacheDir)
	if err != nil {
		t.Fatalf("cache.Open: %v", err)
	}
	return s
}

func (fx *runnerFixture) seed(t *testing.T, e *cache.Entry) {
	t.Helper()
	if err := fx.store(t).Save(mustKey(t, fx.r), e); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func (fx *runnerFixture) saved(t *testing.T) *cache.Entry {
	t.Helper()
	e, err := fx.store(t).Load(mustKey(t, fx.r))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return e
}

// runnerCase is one row of TestRunnerCredentials: what the cache holds, what
// Vault answers, and what the run gives and leaves.
type runnerCase struct {
	name  string
	entry *cache.Entry // seeded before the run; nil for none
	src   fakeSpec

	wantSource  CredentialSource // "" when an error is expected
	wantKey     string
	wantExp     time.Time
	wantFetches int
	wantRenews  int
	// wantSaved is the access key the cache holds afterwards ("" for
	// no entry), and wantSavedExp its expiration.
	wantSaved    string
	wantSavedExp time.Time
	wantErrIs    error
}

func TestRunnerCredentials(t *testing.T) {
	tests := []runnerCase{
		{
			name: "fresh entry is served without asking Vault", entry: entry(-10*time.Minute, 50*time.Minute),
			src:        fakeSpec{fetchCreds: freshCreds()},
			wantSource: SourceCache, wantKey: cachedKey, wantExp: now.Add(50 * time.Minute),
			wantSaved: cachedKey, wantSavedExp: now.Add(50 * time.Minute),
		},
		{
			name: "miss fetches once and saves", src: fakeSpec{fetchCreds: freshCreds()},
			wantSource: SourceVault, wantKey: freshKey, wantExp: now.Add(time.Hour), wantFetches: 1,
			wantSaved: freshKey, wantSavedExp: now.Add(time.Hour),
		},
		{
			name: "stale entry is replaced", entry: entry(-50*time.Minute, 10*time.Minute),
			src:        fakeSpec{fetchCreds: freshCreds()},
			wantSource: SourceVault, wantKey: freshKey, wantExp: now.Add(time.Hour), wantFetches: 1,
			wantSaved: freshKey, wantSavedExp: now.Add(time.Hour),
		},
		{
			name: "renewable entry past its window is renewed", entry: renewable(entry(-50*time.Minute, 10*time.Minute)),
			src:        fakeSpec{fetchCreds: freshCreds(), renewExp: now.Add(time.Hour)},
			wantSource: SourceRenewal, wantKey: cachedKey, wantExp: now.Add(time.Hour), wantRenews: 1,
			wantSaved: cachedKey, wantSavedExp: now.Add(time.Hour),
		},
		{
			name: "renewal capped by the lease's max TTL mints new credentials", entry: renewable(entry(-50*time.Minute, 10*time.Minute)),
			src:        fakeSpec{fetchCreds: freshCreds(), renewExp: now.Add(12 * time.Minute)},
			wantSource: SourceVault, wantKey: freshKey, wantExp: now.Add(time.Hour), wantRenews: 1, wantFetches: 1,
			wantSaved: freshKey, wantSavedExp: now.Add(time.Hour),
		},
		{
			name: "renewal capped but beyond the refresh window is kept", entry: renewable(entry(-50*time.Minute, 10*time.Minute)),
			src:        fakeSpec{fetchCreds: freshCreds(), renewExp: now.Add(20 * time.Minute)},
			wantSource: SourceRenewal, wantKey: cachedKey, wantExp: now.Add(20 * time.Minute), wantRenews: 1,
			wantSaved: cachedKey, wantSavedExp: now.Add(20 * time.Minute),
		},
		{
			name: "refused renewal mints new credentials", entry: renewable(entry(-50*time.Minute, 10*time.Minute)),
			src:        fakeSpec{fetchCreds: freshCreds(), renewErr: errNotFound},
			wantSource: SourceVault, wantKey: freshKey, wantExp: now.Add(time.Hour), wantRenews: 1, wantFetches: 1,
			wantSaved: freshKey, wantSavedExp: now.Add(time.Hour),
		},
		{
			// Issue 10, bug 3: renewing under another token would cap the
			// expiry at that token's while Vault revokes the lease with its own.
			name: "lease minted under another token is not renewed", entry: renewable(entry(-50*time.Minute, 10*time.Minute)),
			src:        fakeSpec{fetchCreds: freshCreds(), renewExp: now.Add(time.Hour), accessor: "accessorOfAnotherToken"},
			wantSource: SourceVault, wantKey: freshKey, wantExp: now.Add(time.Hour), wantFetches: 1,
			wantSaved: freshKey, wantSavedExp: now.Add(time.Hour),
		},
		{
			name: "lease without a recorded minter is not renewed", entry: withAccessor(renewable(entry(-50*time.Minute, 10*time.Minute)), ""),
			src:        fakeSpec{fetchCreds: freshCreds(), renewExp: now.Add(time.Hour)},
			wantSource: SourceVault, wantKey: freshKey, wantExp: now.Add(time.Hour), wantFetches: 1,
			wantSaved: freshKey, wantSavedExp: now.Add(time.Hour),
		},
		{
			name: "expired renewable entry is not renewed", entry: renewable(entry(-2*time.Hour, -time.Hour)),
			src:        fakeSpec{fetchCreds: freshCreds(), renewExp: now.Add(time.Hour)},
			wantSource: SourceVault, wantKey: freshKey, wantExp: now.Add(time.Hour), wantFetches: 1,
			wantSaved: freshKey, wantSavedExp: now.Add(time.Hour),
		},
		{
			name: "outage (503) serves an entry valid long enough", entry: entry(-50*time.Minute, 10*time.Minute),
			src:        fakeSpec{fetchErr: errUnavailable},
			wantSource: SourceOutage, wantKey: cachedKey, wantExp: now.Add(10 * time.Minute), wantFetches: 1,
			wantSaved: cachedKey, wantSavedExp: now.Add(10 * time.Minute),
		},
		{
			name: "outage (connection refused) serves an entry valid long enough", entry: entry(-50*time.Minute, 10*time.Minute),
			src:        fakeSpec{fetchErr: errRefused},
			wantSource: SourceOutage, wantKey: cachedKey, wantExp: now.Add(10 * time.Minute), wantFetches: 1,
			wantSaved: cachedKey, wantSavedExp: now.Add(10 * time.Minute),
		},
		{
			name: "outage serves an entry valid exactly min_remaining", entry: entry(-55*time.Minute, config.DefaultMinRemaining),
			src:        fakeSpec{fetchErr: errUnavailable},
			wantSource: SourceOutage, wantKey: cachedKey, wantExp: now.Add(config.DefaultMinRemaining), wantFetches: 1,
			wantSaved: cachedKey, wantSavedExp: now.Add(config.DefaultMinRemaining),
		},
		{
			name: "outage during renewal serves the entry", entry: renewable(entry(-50*time.Minute, 10*time.Minute)),
			src:        fakeSpec{fetchCreds: freshCreds(), renewErr: errUnavailable},
			wantSource: SourceOutage, wantKey: cachedKey, wantExp: now.Add(10 * time.Minute), wantRenews: 1,
			wantSaved: cachedKey, wantSavedExp: now.Add(10 * time.Minute),
		},
		{
			name: "outage with an entry valid less than min_remaining fails", entry: entry(-57*time.Minute, 3*time.Minute),
			src:         fakeSpec{fetchErr: errUnavailable},
			wantFetches: 1, wantErrIs: errUnavailable,
			wantSaved: cachedKey, wantSavedExp: now.Add(3 * time.Minute),
		},
		{
			name: "outage never serves an expired entry", entry: entry(-2*time.Hour, -time.Minute),
			src:         fakeSpec{fetchErr: errRefused},
			wantFetches: 1, wantErrIs: errRefused,
			wantSaved: cachedKey, wantSavedExp: now.Add(-time.Minute),
		},
		{
			name: "a refusal is not an outage", entry: entry(-50*time.Minute, 10*time.Minute),
			src:         fakeSpec{fetchErr: errForbidden},
			wantFetches: 1, wantErrIs: errForbidden,
			wantSaved: cachedKey, wantSavedExp: now.Add(10 * time.Minute),
		},
		{
			name: "a miss during an outage fails", src: fakeSpec{fetchErr: errUnavailable},
			wantFetches: 1, wantErrIs: errUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{fakeSpec: tt.src}
			fx := newRunner(t, nil, src)
			if tt.entry != nil {
				fx.seed(t, tt.entry)
			}
			c, got, err := fx.r.Credentials(context.Background())
			tt.checkAnswer(t, c, got, err)
			if src.fetches != tt.wantFetches || src.renews != tt.wantRenews {
				t.Errorf("%d fetches and %d renewals, want %d and %d", src.fetches, src.renews, tt.wantFetches, tt.wantRenews)
			}
			if tt.wantFetches+tt.wantRenews == 0 && fx.newSources != 0 {
				t.Errorf("a Vault client was built %d times for a cache hit", fx.newSources)
			}
			if fx.newSources > 1 {
				t.Errorf("a Vault client was built %d times", fx.newSources)
			}
			if src.renews > 0 && (src.renewLease != "aws/creds/dev/cached" || src.renewIncrement != time.Hour) {
				t.Errorf("renewed lease %q by %v, want aws/creds/dev/cached by 1h", src.renewLease, src.renewIncrement)
			}
			if src.fetches > 0 && (src.lastReq.Role != "dev" || src.lastReq.Mount != "aws") {
				t.Errorf("fetched %+v, want role dev on mount aws", src.lastReq)
			}
			if len(fx.warnings) != 0 {
				t.Errorf("warnings: %v", fx.warnings)
			}
			tt.checkSaved(t, fx.saved(t), got, err)
		})
	}
}

// checkAnswer checks what Credentials returned: the error asked for, with no
// credentials and no secret in its text, or the credentials and source.
func (tt runnerCase) checkAnswer(t *testing.T, c *Credentials, got CredentialSource, err error) {
	t.Helper()
	if tt.wantErrIs != nil {
		if !errors.Is(err, tt.wantErrIs) {
			t.Fatalf("Credentials = %+v, %q, %v; want error %v", c, got, err, tt.wantErrIs)
		}
		if c != nil {
			t.Errorf("Credentials returned %+v along with the error", c)
		}
		noSecrets(t, errorTexts(err)...)
		for _, text := range errorTexts(err) {
			if strings.Contains(text, cachedSecret) {
				t.Errorf("the cached secret leaked into %q", text)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("Credentials: %v", err)
	}
	if got != tt.wantSource {
		t.Errorf("source %q, want %q", got, tt.wantSource)
	}
	if c.AccessKeyID != tt.wantKey || !c.Expiration.Equal(tt.wantExp) {
		t.Errorf("credentials %s until %s, want %s until %s", c.AccessKeyID,
			c.Expiration.Format(time.RFC3339), tt.wantKey, tt.wantExp.Format(time.RFC3339))
	}
	if tt.wantKey == cachedKey && c.SecretAccessKey != cachedSecret {
		t.Errorf("secret key changed to %q", c.SecretAccessKey)
	}
}

// checkSaved checks the entry the run left in the cache (nil for none); got and
// err are what the run returned.
func (tt runnerCase) checkSaved(t *testing.T, saved *cache.Entry, got CredentialSource, err error) {
	t.Helper()
	switch {
	case tt.wantSaved == "" && saved != nil:
		t.Errorf("cache holds %+v, want nothing", saved)
	case tt.wantSaved != "" && saved == nil:
		t.Errorf("cache holds nothing, want %s", tt.wantSaved)
	case tt.wantSaved != "":
		if saved.AccessKeyID != tt.wantSaved || !saved.Expiration.Equal(tt.wantSavedExp) {
			t.Errorf("cache holds %s until %s, want %s until %s", saved.AccessKeyID,
				saved.Expiration.Format(time.RFC3339), tt.wantSaved, tt.wantSavedExp.Format(time.RFC3339))
		}
	}
	if err == nil && (got == SourceVault || got == SourceRenewal) {
		if saved.Source != string(got) || StoredRequestOf(saved).Role != "dev" || !saved.IssuedAt.Equal(now) {
			t.Errorf("saved entry source %q, request %s, issued %s; want %q, role dev, issued now",
				saved.Source, saved.Request, saved.IssuedAt, got)
		}
		if got == SourceRenewal && (saved.LeaseID != "aws/creds/dev/cached" || !saved.Renewable || saved.SecretAccessKey != cachedSecret) {
			t.Errorf("renewed entry lost its lease or keys: %+v", saved)
		}
	}
}

func TestRunnerSecondRunIsACacheHit(t *testing.T) {
	src := &fakeSource{fakeSpec: fakeSpec{fetchCreds: freshCreds()}}
	fx := newRunner(t, nil, src)
	for i, want := range []CredentialSource{SourceVault, SourceCache} {
		c, got, err := fx.r.Credentials(context.Background())
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if got != want || c.AccessKeyID != freshKey {
			t.Errorf("run %d: %s from %q, want %s from %q", i+1, c.AccessKeyID, got, freshKey, want)
		}
	}
	if src.fetches != 1 {
		t.Errorf("%d fetches, want 1", src.fetches)
	}
}

func TestRunnerKeySeparatesRequests(t *testing.T) {
	keyOf := func(flags *config.Flags) string {
		return mustKey(t, newRunner(t, flags, &fakeSource{}).r)
	}
	base := keyOf(nil)
	for _, flags := range []*config.Flags{
		{config.IDRole: "other"},
		{config.IDMount: "aws2"},
		{config.IDType: "iam_user"},
		{config.IDTTL: "1h"},
		{config.IDRoleSessionName: "me"},
	} {
		if keyOf(flags) == base {
			t.Errorf("flags %v share the cache key of the default request", flags)
		}
	}
	if keyOf(&config.Flags{config.IDDebug: "true", config.IDTimeout: "5s"}) != base {
		t.Error("flags that do not change the request changed the cache key")
	}
}

func TestRunnerNoCache(t *testing.T) {
	tests := []struct {
		name  string
		entry bool // a fresh entry exists before the run
	}{
		{"empty folder", false},
		{"fresh entry is ignored", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{fakeSpec: fakeSpec{fetchCreds: freshCreds()}}
			fx := newRunner(t, &config.Flags{config.IDNoCache: "true"}, src)
			if !fx.r.Settings.CacheDisabled {
				t.Fatal("--no-cache did not disable the cache")
			}
			dir := fx.r.Settings.CacheDir
			var before []string
			if tt.entry {
				fx.seed(t, entry(-time.Minute, time.Hour))
				before = listDir(t, dir)
			}
			c, got, err := fx.r.Credentials(context.Background())
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			if got != SourceVault || c.AccessKeyID != freshKey || src.fetches != 1 {
				t.Errorf("%s from %q after %d fetches, want %s from vault after 1", c.AccessKeyID, got, src.fetches, freshKey)
			}
			if !tt.entry {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("--no-cache created the cache folder (stat: %v)", err)
				}
				return
			}
			if after := listDir(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("--no-cache changed the cache folder: %v -> %v", before, after)
			}
			if e := fx.saved(t); e == nil || e.AccessKeyID != cachedKey {
				t.Errorf("--no-cache replaced the cached entry: %+v", e)
			}
		})
	}
	t.Run("error is passed through", func(t *testing.T) {
		src := &fakeSource{fakeSpec: fakeSpec{fetchErr: errUnavailable}}
		fx := newRunner(t, &config.Flags{config.IDNoCache: "true"}, src)
		c, _, err := fx.r.Credentials(context.Background())
		if !errors.Is(err, errUnavailable) || c != nil {
			t.Errorf("Credentials = %+v, %v; want the Vault error", c, err)
		}
		if _, err := os.Stat(fx.r.Settings.CacheDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("--no-cache created the cache folder (stat: %v)", err)
		}
	})
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, de.Name()+"@"+fi.ModTime().String())
	}
	return names
}

// TestRunnerLockHeld: another process holds the entry's lock until the
// run's deadline. A still-usable entry stands in; otherwise the run fails
// saying why.
func TestRunnerLockHeld(t *testing.T) {
	tests := []struct {
		name       string
		entry      *cache.Entry
		wantSource CredentialSource
	}{
		{"usable entry is served", entry(-50*time.Minute, 10*time.Minute), SourceOutage},
		{"no entry fails", nil, ""},
		{"entry below min_remaining fails", entry(-57*time.Minute, 3*time.Minute), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{fakeSpec: fakeSpec{fetchCreds: freshCreds()}}
			fx := newRunner(t, nil, src)
			if tt.entry != nil {
				fx.seed(t, tt.entry)
			}
			unlock, err := fx.store(t).Lock(context.Background(), mustKey(t, fx.r))
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			defer unlock()

			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			c, got, err := fx.r.Credentials(ctx)
			if src.fetches+src.renews != 0 {
				t.Errorf("Vault was asked while another process held the lock")
			}
			if tt.wantSource != "" {
				if err != nil || got != tt.wantSource || c.AccessKeyID != cachedKey {
					t.Errorf("Credentials = %+v, %q, %v; want the cached entry from %q", c, got, err, tt.wantSource)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != ExitFailure || !strings.Contains(pe.Msg, "cache lock") || pe.Hint == "" {
				t.Errorf("Credentials = %+v, %q, %v; want a lock error with a hint", c, got, err)
			}
		})
	}
}

// TestRunnerRenewsShortLease: a lease shorter than the refresh window is
// renewed too, judged by half its own length.
func TestRunnerRenewsShortLease(t *testing.T) {
	tests := []struct {
		name        string
		renewExp    time.Time
		wantSource  CredentialSource
		wantFetches int
	}{
		{"renewed for a whole lease", now.Add(10 * time.Minute), SourceRenewal, 0},
		{"renewed for more than half a lease", now.Add(6 * time.Minute), SourceRenewal, 0},
		{"renewed for half a lease or less", now.Add(5 * time.Minute), SourceVault, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{fakeSpec: fakeSpec{fetchCreds: freshCreds(), renewExp: tt.renewExp}}
			fx := newRunner(t, nil, src)
			e := entry(-8*time.Minute, 2*time.Minute) // 10-minute lease, past its 5-minute window
			e.Renewable, e.LeaseID, e.LeaseDuration, e.TokenAccessor = true, "aws/creds/dev/short", 600, testAccessor
			fx.seed(t, e)
			_, got, err := fx.r.Credentials(context.Background())
			if err != nil {
				t.Fatalf("Credentials: %v", err)
			}
			if got != tt.wantSource || src.renews != 1 || src.fetches != tt.wantFetches {
				t.Errorf("source %q after %d renewals and %d fetches, want %q after 1 and %d",
					got, src.renews, src.fetches, tt.wantSource, tt.wantFetches)
			}
			if src.renewLease != "aws/creds/dev/short" || src.renewIncrement != 10*time.Minute {
				t.Errorf("renewed %q by %v, want aws/creds/dev/short by 10m", src.renewLease, src.renewIncrement)
			}
		})
	}
}

// TestRunnerCacheFolderCannotBeCreated: a cache folder that cannot be made (its parent
// is a file, as on a read-only or odd file system) costs the cache, not the run.
func TestRunnerCacheFolderCannotBeCreated(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(parent, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{fakeSpec: fakeSpec{fetchCreds: freshCreds()}}
	fx := newRunner(t, &config.Flags{config.IDCacheDir: filepath.Join(parent, "cache")}, src)
	c, got, err := fx.r.Credentials(context.Background())
	if err != nil || got != SourceVault || c.AccessKeyID != freshKey {
		t.Fatalf("got %v from %q, %v; want fresh credentials from Vault", c, got, err)
	}
	if len(fx.warnings) != 1 || !strings.Contains(fx.warnings[0], "could not cache") {
		t.Errorf("warnings %q, want one about the cache", fx.warnings)
	}

	// A fetch that fails is the error, with no warning beside it.
	src2 := &fakeSource{fakeSpec: fakeSpec{fetchErr: errUnavailable}}
	fx2 := newRunner(t, &config.Flags{config.IDCacheDir: filepath.Join(parent, "cache")}, src2)
	if _, _, err := fx2.r.Credentials(context.Background()); err == nil || len(fx2.warnings) != 0 {
		t.Errorf("err %v, warnings %q; want the fetch error alone", err, fx2.warnings)
	}
}

func mustKey(t *testing.T, r *Runner) string {
	t.Helper()
	k, err := r.Key()
	if err != nil {
		t.Fatalf("Key: %v", err)
	}
	return k
}
