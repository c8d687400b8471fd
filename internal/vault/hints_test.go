package vault

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

func TestUnavailable(t *testing.T) {
	refused := &url.Error{Op: "Put", URL: "http://127.0.0.1:1/v1/aws/creds/x",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"500", &api.ResponseError{StatusCode: 500}, true},
		{"502", &api.ResponseError{StatusCode: 502}, true},
		{"503", &api.ResponseError{StatusCode: 503}, true},
		{"429", &api.ResponseError{StatusCode: 429}, true},
		{"400", &api.ResponseError{StatusCode: 400}, false},
		{"403", &api.ResponseError{StatusCode: 403}, false},
		{"404", &api.ResponseError{StatusCode: 404}, false},
		{"412", &api.ResponseError{StatusCode: 412}, false},
		{"deadline", context.DeadlineExceeded, true},
		{"wrapped deadline", fmt.Errorf("get credentials: %w", context.DeadlineExceeded), true},
		{"connection refused", refused, true},
		{"dial error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no route to host")}, true},
		{"DNS error", &net.DNSError{Err: "no such host", Name: "vault.invalid", IsNotFound: true}, true},
		{"503 wrapped in *Error", &process.Error{Code: process.ExitFailure, Msg: "x", Err: &api.ResponseError{StatusCode: 503}}, true},
		{"403 wrapped in *Error", &process.Error{Code: process.ExitFailure, Msg: "x", Err: &api.ResponseError{StatusCode: 403}}, false},
		{"refused wrapped twice", fmt.Errorf("outer: %w", &process.Error{Msg: "x", Err: refused}), true},
		{"plain error", errors.New("the response has no access_key"), false},
		{"*Error without cause", &process.Error{Code: process.ExitFailure, Msg: "no Vault token found"}, false},
		{"config error", &config.Error{Source: "--ttl", Msg: "invalid duration"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unavailable(tt.err); got != tt.want {
				t.Errorf("Unavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestVaultErrorHints(t *testing.T) {
	const addr = "https://vault.example.com:8200"
	tests := []struct {
		name     string
		err      error
		timeout  bool
		wantMsg  []string
		wantHint []string
	}{
		{"403", &api.ResponseError{StatusCode: 403, Errors: []string{"permission denied"}}, false,
			[]string{"Vault answered 403: permission denied"}, []string{"token", "policy", "aws/creds/dev"}},
		{"400 role not found", &api.ResponseError{StatusCode: 400, Errors: []string{`Role "dev" not found`}}, false,
			[]string{`Vault answered 400: Role "dev" not found`}, []string{"--mount", "--role"}},
		{"400 other", &api.ResponseError{StatusCode: 400, Errors: []string{"invalid ttl"}}, false,
			[]string{"Vault answered 400: invalid ttl"}, nil},
		{"raw error body", &api.ResponseError{StatusCode: 502, RawError: true, Errors: []string{"<html>bad gateway</html>"}}, false,
			[]string{"Vault answered 502: server error"}, []string{"--retries", "not a Vault server"}},
		{"raw 404: not Vault", &api.ResponseError{StatusCode: 404, RawError: true, Errors: []string{"404 page not found"}}, false,
			[]string{addr + " answered 404, not as Vault answers: this is not a Vault server"}, []string{"set VAULT_ADDR", "your Vault's address"}},
		{"plain http answer to https", &url.Error{Op: "Put", URL: addr, Err: errors.New("http: server gave HTTP response to HTTPS client")}, false,
			[]string{"Vault at " + addr + " answered in plain http, not https"}, []string{"use http://vault.example.com:8200 (http://) in VAULT_ADDR"}},
		{"sealed", &api.ResponseError{StatusCode: 503, Errors: []string{"Vault is sealed"}}, false,
			[]string{"503"}, []string{"unseal"}},
		{"429", &api.ResponseError{StatusCode: 429}, false,
			[]string{"Vault answered 429: too many requests"}, []string{"--retries"}},
		{"timeout flag", errors.New("whatever"), true,
			[]string{"Vault at " + addr + " did not answer in time"}, []string{"--timeout"}},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false,
			[]string{"did not answer in time"}, []string{"--timeout"}},
		{"refused", &url.Error{Op: "Put", URL: addr, Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, false,
			[]string{"connection to Vault at " + addr + " refused"}, []string{"VAULT_ADDR"}},
		{"TLS", &url.Error{Op: "Put", URL: addr, Err: x509.UnknownAuthorityError{}}, false,
			[]string{"TLS with Vault at " + addr + " failed", "x509:"}, []string{"VAULT_CACERT"}},
		{"DNS", &url.Error{Op: "Put", URL: addr, Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "vault.invalid"}}}, false,
			[]string{"no such host"}, []string{"host name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := vaultError(tt.err, "get credentials from aws/creds/dev", "aws/creds/dev", addr, tt.timeout)
			if e.Code != process.ExitFailure || !errors.Is(e, tt.err) {
				t.Errorf("error %+v: want exit 1 wrapping the cause", e)
			}
			if !strings.HasPrefix(e.Msg, "get credentials from aws/creds/dev: ") {
				t.Errorf("message %q does not start with what failed", e.Msg)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(e.Msg, w) {
					t.Errorf("message %q, want it to contain %q", e.Msg, w)
				}
			}
			for _, w := range tt.wantHint {
				if !strings.Contains(e.Hint, w) {
					t.Errorf("hint %q, want it to contain %q", e.Hint, w)
				}
			}
			if strings.Contains(e.Msg, "\n") || strings.Contains(e.Hint, "\n") {
				t.Errorf("message %q / hint %q spans more than one line", e.Msg, e.Hint)
			}
		})
	}
}

func TestJitterBackoff(t *testing.T) {
	const (
		lo = 250 * time.Millisecond
		hi = 4 * time.Second
	)
	tests := []struct {
		name     string
		min, max time.Duration
		attempt  int
		resp     *http.Response
		wantD    time.Duration // the un-jittered wait
	}{
		{"attempt 0", lo, hi, 0, nil, lo},
		{"attempt 1", lo, hi, 1, nil, 2 * lo},
		{"attempt 3", lo, hi, 3, nil, 8 * lo},
		{"capped", lo, hi, 5, nil, hi},
		{"far beyond the cap", lo, hi, 80, nil, hi},
		{"500 without Retry-After", lo, hi, 2, httpResponse(500, ""), 4 * lo},
		{"odd duration", 3, 1000, 0, nil, 3},
		{"tiny", 2, 10, 0, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 500 {
				got := jitterBackoff(tt.min, tt.max, tt.attempt, tt.resp)
				if got < tt.wantD/2 || got > tt.wantD {
					t.Fatalf("jitterBackoff = %v, want it in [%v, %v]", got, tt.wantD/2, tt.wantD)
				}
				seen[got] = true
			}
			// 500 draws from a range this wide all landing on one value
			// would mean there is no jitter.
			if tt.wantD >= 1000 && len(seen) < 2 {
				t.Errorf("jitterBackoff always returned the same wait: %v", seen)
			}
		})
	}

	t.Run("Retry-After is obeyed exactly", func(t *testing.T) {
		for _, status := range []int{429, 503} {
			for range 50 {
				if got := jitterBackoff(lo, hi, 0, httpResponse(status, "3")); got != 3*time.Second {
					t.Fatalf("jitterBackoff with %d Retry-After 3 = %v, want 3s", status, got)
				}
			}
		}
	})
	t.Run("no wait stays no wait", func(t *testing.T) {
		for _, d := range []time.Duration{0, 1} {
			if got := jitterBackoff(d, d, 0, nil); got != d {
				t.Errorf("jitterBackoff(%v) = %v", d, got)
			}
		}
	})
}

// TestVaultErrorCarriesTheAnswer: the *Error of vaultError tells the core,
// which does not know vault/api, how Vault answered: an outage (5xx, 429,
// no answer) lets a cached entry stand in, a 403 may mean a revoked lease,
// and an answer the helper refused (another host, too large) is neither.
func TestVaultErrorCarriesTheAnswer(t *testing.T) {
	noAnswer := &url.Error{Op: "Put", URL: "http://127.0.0.1:1/v1/aws/creds/x",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	for _, tt := range []struct {
		name                   string
		err                    error
		unavailable, forbidden bool
	}{
		{"503", &api.ResponseError{StatusCode: 503}, true, false},
		{"429", &api.ResponseError{StatusCode: 429}, true, false},
		{"403", &api.ResponseError{StatusCode: 403, Errors: []string{"permission denied"}}, false, true},
		{"400", &api.ResponseError{StatusCode: 400}, false, false},
		{"no answer", noAnswer, true, false},
		{"another host", &url.Error{Op: "Get", URL: "http://other/", Err: fmt.Errorf("%w: x", errOtherHost)}, false, false},
		{"too large", &url.Error{Op: "Get", URL: "http://127.0.0.1:1/", Err: errResponseTooLarge}, false, false},
	} {
		e := vaultError(tt.err, "get credentials from aws/creds/dev", "aws/creds/dev", "http://127.0.0.1:1", false)
		for _, err := range []error{e, fmt.Errorf("outer: %w", e), errors.Join(process.ErrRevoked, e)} {
			if got := process.Unavailable(err); got != tt.unavailable {
				t.Errorf("%s: process.Unavailable(%v) = %v, want %v", tt.name, err, got, tt.unavailable)
			}
			if got := process.Forbidden(err); got != tt.forbidden {
				t.Errorf("%s: process.Forbidden(%v) = %v, want %v", tt.name, err, got, tt.forbidden)
			}
		}
	}
}
