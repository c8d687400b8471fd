package main

// Integration tests of the disk cache: one Vault request for many parallel processes,
// lease renewal, outage behaviour, crash safety and the folder's safety checks.

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// TestStampede starts 64 cold runs at once: Vault must see one credential request (and
// moto one new IAM user), and every run must print the same credentials.
func TestStampede(t *testing.T) {
	b := requireBed(t)
	for _, tt := range []struct {
		role, typ string
		users     int
	}{{testbed.RoleIAM, "iam_user", 1}, {testbed.RoleAssume, "assumed_role", 0}} {
		t.Run(tt.typ, func(t *testing.T) {
			env := productEnv(t, b)
			path := testbed.Mount + "/creds/" + tt.role
			requests, users := auditCount(t, b, "update", path), iamUsers(t, b)
			const n = 64
			results := runMany(n, func(int) result {
				// A loaded machine may take a while to start 64 processes: the lock
				// wait is bounded by --timeout, so give it room.
				return runBin(t, env, "--role", tt.role, "--type", tt.typ, "--timeout", "2m")
			})
			for i, r := range results {
				if r.code != 0 {
					t.Fatalf("run %d: exit %d: %s", i, r.code, r.stderr)
				}
				if r.stdout != results[0].stdout {
					t.Fatalf("run %d printed other credentials than run 0", i)
				}
			}
			if got := auditCount(t, b, "update", path) - requests; got != 1 {
				t.Errorf("%d runs made %d credential requests to Vault, want 1", n, got)
			}
			if got := iamUsers(t, b) - users; got != tt.users {
				t.Errorf("moto has %d new IAM users, want %d", got, tt.users)
			}

			// Warm: no Vault request at all.
			total := auditTotal(t, b)
			if r := runBin(t, env, "--role", tt.role, "--type", tt.typ); r.code != 0 || r.stdout != results[0].stdout {
				t.Fatalf("warm run: exit %d, same document %v: %s", r.code, r.stdout == results[0].stdout, r.stderr)
			}
			if got := auditTotal(t, b); got != total {
				t.Errorf("a warm run made %d Vault requests", got-total)
			}
		})
	}
}

// TestRenewal ages an iam_user entry: the next run renews the lease and keeps the same
// keys, without minting a new IAM user.
func TestRenewal(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	args := []string{"--role", testbed.RoleIAM, "--type", "iam_user"}
	first := runBin(t, env, args...)
	if first.code != 0 {
		t.Fatalf("exit %d: %s", first.code, first.stderr)
	}
	entry := onlyEntry(t, cacheDir(env))
	editEntry(t, entry, age(10*time.Minute))

	creds, renews, users := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleIAM),
		auditCount(t, b, "update", "sys/leases/renew"), iamUsers(t, b)
	start := time.Now()
	r := runBin(t, env, append(args, "--debug")...)
	end := time.Now()
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	doc := parseDocument(t, r.stdout)
	if doc.AccessKeyID != parseDocument(t, first.stdout).AccessKeyID {
		t.Errorf("renewal changed the keys")
	}
	sentPlus(t, "renewed Expiration", doc.expires(t), start, end, time.Hour)
	if got := auditCount(t, b, "update", "sys/leases/renew") - renews; got != 1 {
		t.Errorf("%d lease renewals, want 1", got)
	}
	if got := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleIAM) - creds; got != 0 {
		t.Errorf("%d new credential requests, want 0", got)
	}
	if got := iamUsers(t, b) - users; got != 0 {
		t.Errorf("%d new IAM users, want 0", got)
	}
	if !strings.Contains(r.stderr, "credentials from renewal") {
		t.Errorf("--debug does not say the credentials come from a renewal:\n%s", r.stderr)
	}
}

// proxy forwards TCP connections from a loopback port to target until closed: a Vault
// address the test can take down without stopping the shared Vault.
type proxy struct {
	l      net.Listener
	target string
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer c.Close()
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c); u.Close() }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) addr() string { return "http://" + p.l.Addr().String() }
func (p *proxy) stop()        { p.l.Close(); p.wg.Wait() }

// TestOutage takes Vault away: an entry past its refresh window but valid for more than
// min_remaining is still served; an expired one is never served.
func TestOutage(t *testing.T) {
	b := requireBed(t)
	p := startProxy(t, strings.TrimPrefix(b.VaultAddr, "http://"))
	env := setEnv(productEnv(t, b), "VAULT_ADDR", p.addr())
	args := []string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--retries", "0"}
	first := runBin(t, env, args...)
	if first.code != 0 {
		t.Fatalf("exit %d: %s", first.code, first.stderr)
	}
	entry := onlyEntry(t, cacheDir(env))
	p.stop()

	editEntry(t, entry, age(10*time.Minute))
	r := runBin(t, env, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("outage with a valid entry: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if parseDocument(t, r.stdout).AccessKeyID != parseDocument(t, first.stdout).AccessKeyID {
		t.Errorf("outage: not the cached credentials")
	}
	if r := runBin(t, env, append(args, "--debug")...); !strings.Contains(r.stderr, "serving the cached entry") {
		t.Errorf("--debug does not say the cached entry stood in:\n%s", r.stderr)
	}

	editEntry(t, entry, age(3*time.Minute)) // below min_remaining (5m)
	t.Run("below min_remaining", func(t *testing.T) {
		assertFailure(t, runBin(t, env, args...), 1, "refused", "is Vault running there?")
	})
	editEntry(t, entry, age(-time.Minute)) // expired
	t.Run("expired", func(t *testing.T) {
		assertFailure(t, runBin(t, env, args...), 1, "refused", "is Vault running there?")
	})
}

// TestKilledMidWrite kills a process halfway through writing an entry: the old entry
// stays whole, and the next run works.
func TestKilledMidWrite(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	args := []string{"--role", testbed.RoleAssume, "--type", "assumed_role"}
	if r := runBin(t, env, args...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	entry := onlyEntry(t, cacheDir(env))
	editEntry(t, entry, age(10*time.Minute))
	old, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}

	startPaused(t, env, args).kill(t)
	now, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}
	if string(now) != string(old) {
		t.Fatalf("the entry changed under a killed write:\nbefore %s\nafter  %s", old, now)
	}
	// The killed write left half an entry, secrets and all (issue 10): the next
	// run, holding the entry's lock, removes it.
	if temps := unfinishedWrites(t, env); len(temps) != 1 {
		t.Fatalf("unfinished writes after the kill: %v, want 1", temps)
	}
	if r := runBin(t, env, args...); r.code != 0 {
		t.Fatalf("run after the kill: exit %d: %s", r.code, r.stderr)
	}
	after, err := os.ReadFile(entry)
	if err != nil {
		t.Fatalf("the entry after the kill: %v", err)
	}
	if string(after) == string(old) {
		t.Errorf("the run after the kill did not refresh the aged entry")
	}
	if temps := unfinishedWrites(t, env); len(temps) != 0 {
		t.Errorf("the run after the kill left the unfinished write: %v", temps)
	}

	// So does `cache clear --all`, which used to say "removed 0" and leave it.
	editEntry(t, entry, age(10*time.Minute))
	startPaused(t, env, args).kill(t)
	r := runCmd(t, env, "cache", "clear", "--all")
	if r.code != 0 || !strings.Contains(r.stdout, "removed 1 cache entry, 1 unfinished write and 0 login tokens") {
		t.Errorf("cache clear --all: %+v", r)
	}
	if temps := unfinishedWrites(t, env); len(temps) != 0 {
		t.Errorf("cache clear --all left the unfinished write: %v", temps)
	}
}

// unfinishedWrites lists the temporary files in the cache folder of env.
func unfinishedWrites(t *testing.T, env []string) []string {
	t.Helper()
	temps, err := filepath.Glob(filepath.Join(cacheDir(env), ".tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return temps
}

// TestCacheFiles checks modes whatever the umask, the refusals, a corrupt entry and
// --no-cache.
func TestCacheFiles(t *testing.T) {
	b := requireBed(t)
	args := []string{"--role", testbed.RoleAssume, "--type", "assumed_role"}

	t.Run("modes under umask 000", func(t *testing.T) {
		env := productEnv(t, b)
		old := syscall.Umask(0)
		r := runBin(t, env, args...)
		syscall.Umask(old)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		dir := cacheDir(env)
		for path, want := range map[string]os.FileMode{dir: 0o700, onlyEntry(t, dir): 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s has mode %04o, want %04o", path, fi.Mode().Perm(), want)
			}
		}
		if tmp, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(tmp) != 0 {
			t.Errorf("temporary files left: %v", tmp)
		}
	})

	refused := []struct {
		name  string
		setup func(t *testing.T, dir string)
		msg   string
	}{
		{"symlinked folder", func(t *testing.T, dir string) {
			real := t.TempDir()
			if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, dir); err != nil {
				t.Fatal(err)
			}
		}, "is a symlink"},
		{"group-writable folder", func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o770); err != nil {
				t.Fatal(err)
			}
		}, "open to other users"},
		{"symlinked entry", func(t *testing.T, dir string) {
			// The entry's name is what a run writes: make one, then swap it for a link.
			if r := runBin(t, productEnvWithCache(t, b, dir), args...); r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			entry := onlyEntry(t, dir)
			target := filepath.Join(t.TempDir(), "elsewhere.json")
			if err := os.Rename(entry, target); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, entry); err != nil {
				t.Fatal(err)
			}
		}, "is a symlink"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			env := productEnvWithCache(t, b, dir)
			tt.setup(t, dir)
			r := runBin(t, env, args...)
			assertFailure(t, r, 1, tt.msg, "fix or remove it, or pass --cache-dir")
		})
	}

	t.Run("corrupt entry is a miss", func(t *testing.T) {
		env := productEnv(t, b)
		if r := runBin(t, env, args...); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		entry := onlyEntry(t, cacheDir(env))
		for _, junk := range []string{"", "{", `{"version":1}`, `{"version":99,"access_key_id":"x"}`, "\x00\x01"} {
			if err := os.WriteFile(entry, []byte(junk), 0o600); err != nil {
				t.Fatal(err)
			}
			requests := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleAssume)
			if r := runBin(t, env, args...); r.code != 0 {
				t.Fatalf("entry %q: exit %d: %s", junk, r.code, r.stderr)
			}
			if got := auditCount(t, b, "update", testbed.Mount+"/creds/"+testbed.RoleAssume) - requests; got != 1 {
				t.Errorf("entry %q: %d Vault requests, want 1", junk, got)
			}
			if data, _ := os.ReadFile(entry); string(data) == junk {
				t.Errorf("entry %q was not overwritten", junk)
			}
		}
	})

	t.Run("no-cache writes nothing", func(t *testing.T) {
		for _, how := range [][]string{{"--no-cache"}, {"VAULT_CREDENTIAL_PROCESS_NO_CACHE=1"}} {
			env := productEnv(t, b)
			a := args
			if strings.HasPrefix(how[0], "--") {
				a = append(append([]string{}, args...), how...)
			} else {
				env = append(env, how...)
			}
			if r := runBin(t, env, a...); r.code != 0 {
				t.Fatalf("%v: exit %d: %s", how, r.code, r.stderr)
			}
			if _, err := os.Stat(filepath.Dir(cacheDir(env))); !os.IsNotExist(err) {
				t.Errorf("%v: the cache home exists (%v)", how, err)
			}
		}
	})
}

// productEnvWithCache is productEnv with the cache in dir.
func productEnvWithCache(t *testing.T, b *testbed.Bed, dir string) []string {
	return append(productEnv(t, b), "VAULT_CREDENTIAL_PROCESS_CACHE_DIR="+dir)
}

// TestLoad runs 100 processes at once against a cold cache, then 100 against the warm
// one: no errors, one Vault request for the cold batch, none for the warm one.
func TestLoad(t *testing.T) {
	b := requireBed(t)
	env := productEnv(t, b)
	args := []string{"--role", testbed.RoleAssume, "--type", "assumed_role", "--ttl", "30m", "--timeout", "2m"}
	path := testbed.Mount + "/creds/" + testbed.RoleAssume
	const n = 100
	for _, batch := range []struct {
		name     string
		requests int
	}{{"cold", 1}, {"warm", 0}} {
		before := auditCount(t, b, "update", path)
		results := runMany(n, func(int) result { return runBin(t, env, args...) })
		failed := 0
		for _, r := range results {
			if r.code != 0 || r.stdout != results[0].stdout {
				failed++
			}
		}
		if failed > 0 {
			t.Errorf("%s: %d of %d runs failed or printed other credentials", batch.name, failed, n)
		}
		if got := auditCount(t, b, "update", path) - before; got != batch.requests {
			t.Errorf("%s: %d runs made %d Vault requests, want %d", batch.name, n, got, batch.requests)
		}
	}
}
