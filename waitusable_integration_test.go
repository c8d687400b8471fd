package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// youngKeys is a proxy in front of moto that models AWS's documented
// eventual consistency of IAM: STS refuses an access key
// (InvalidClientTokenId) until it has been seen for youth. moto itself
// accepts a key the moment it exists. It counts the requests it refused
// and let through.
type youngKeys struct {
	*httptest.Server
	youth time.Duration

	mu        sync.Mutex
	firstSeen map[string]time.Time
	refused   int
	passed    int
}

var credentialRE = regexp.MustCompile(`Credential=([A-Z0-9]+)/`)

func newYoungKeys(t *testing.T, moto string, youth time.Duration) *youngKeys {
	t.Helper()
	target, err := url.Parse(moto)
	if err != nil {
		t.Fatal(err)
	}
	y := &youngKeys{youth: youth, firstSeen: map[string]time.Time{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	y.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
		y.mu.Lock()
		young := false
		if m != nil {
			first, seen := y.firstSeen[m[1]]
			if !seen {
				first = time.Now()
				y.firstSeen[m[1]] = first
			}
			young = time.Since(first) < y.youth
		}
		if young {
			y.refused++
		} else {
			y.passed++
		}
		y.mu.Unlock()
		if young {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>`+
				`<Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(y.Close)
	return y
}

func (y *youngKeys) counts() (refused, passed int) {
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.refused, y.passed
}

// TestWaitUsable (issue 23): IAM keys Vault just minted are refused by STS
// for a few seconds; with --wait-usable the helper hands them out only once
// STS accepts them, so the first AWS call after a miss succeeds, and fills
// in AccountId. A cache hit asks STS nothing; the wait is bounded.
func TestWaitUsable(t *testing.T) {
	b := requireBed(t)
	y := newYoungKeys(t, b.MotoURL, 3*time.Second)
	env := append(productEnv(t, b), "AWS_ENDPOINT_URL_STS="+y.URL, "AWS_REGION="+testbed.Region)
	config := filepath.Join(t.TempDir(), "config")
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		unavailable(t, "the aws CLI: %v", err)
	}
	profile := func(extra string) {
		writeFile(t, config, fmt.Sprintf("[profile p]\nregion = %s\nendpoint_url = %s\ncredential_process = %s --role %s --type iam_user --no-cache %s\n",
			testbed.Region, y.URL, binaryUnderTest(t), testbed.RoleIAM, extra), 0o600)
	}
	client := func() (string, error) {
		cmd := exec.CommandContext(runCtx, awsCLI, "--profile", "p", "sts", "get-caller-identity", "--output", "json")
		// (clientEnv drops AWS_*: give the helper, which the CLI runs, the
		// proxy again, so no request leaves this machine.)
		cmd.Env = clientEnv(env, config, "AWS_ENDPOINT_URL_STS="+y.URL, "AWS_REGION="+testbed.Region)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	t.Run("without the wait the first call fails", func(t *testing.T) {
		profile("")
		if out, err := client(); err == nil || !strings.Contains(out, "InvalidClientTokenId") {
			t.Fatalf("the first call with a key minted a moment ago: %v\n%s\nwant InvalidClientTokenId (the proxy does not model AWS)", err, out)
		}
	})
	t.Run("with the wait it succeeds", func(t *testing.T) {
		profile("--wait-usable")
		out, err := client()
		if err != nil || !strings.Contains(out, b.AccountID) {
			t.Fatalf("the first call after a miss with --wait-usable: %v\n%s", err, out)
		}
		assertNoSecret(t, "the client's output", out)
	})
	t.Run("AccountId filled; a hit asks STS nothing", func(t *testing.T) {
		cached := append(env, "VAULT_CREDENTIAL_PROCESS_WAIT_USABLE=true")
		r := runProgram(t, cached, runOpts{document: true}, "--role", testbed.RoleIAM, "--type", "iam_user")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if doc := parseDocument(t, r.stdout); doc.AccountID != b.AccountID {
			t.Errorf("AccountId %q, want %q from GetCallerIdentity", doc.AccountID, b.AccountID)
		}
		refused, passed := y.counts()
		if r = runProgram(t, cached, runOpts{document: true}, "--role", testbed.RoleIAM, "--type", "iam_user"); r.code != 0 {
			t.Fatalf("hit: exit %d: %s", r.code, r.stderr)
		}
		if r2, p2 := y.counts(); r2 != refused || p2 != passed {
			t.Errorf("a cache hit sent %d requests to STS, want none", r2+p2-refused-passed)
		}
	})
	t.Run("the wait is bounded by --timeout", func(t *testing.T) {
		slow := newYoungKeys(t, b.MotoURL, time.Hour)
		r := runProgram(t, setEnv(env, "AWS_ENDPOINT_URL_STS", slow.URL), runOpts{document: true, bound: time.Minute},
			"--role", testbed.RoleIAM, "--type", "iam_user", "--no-cache", "--wait-usable", "--timeout", "8s")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		assertWarning(t, r.stderr, "wait_usable: AWS did not accept the new key")
	})
}
