package vault

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

func TestRetryPolicyRetryAfterPastDeadline(t *testing.T) {
	tests := []struct {
		name     string
		resp     *http.Response
		deadline time.Duration // 0: none
		want     bool
	}{
		{"429 asking for less than the time left", httpResponse(429, "1"), time.Minute, true},
		{"429 asking past the deadline", httpResponse(429, "3600"), time.Minute, false},
		{"503 asking past the deadline", httpResponse(503, "3600"), time.Minute, false},
		{"429 asking for an hour, no deadline", httpResponse(429, "3600"), 0, true},
		{"503 without Retry-After", httpResponse(503, ""), time.Second, true},
		{"500 with Retry-After (not obeyed, so not judged)", httpResponse(500, "3600"), time.Minute, true},
		{"403 is final", httpResponse(403, ""), time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			if got, _ := retryPolicy(ctx, tt.resp, nil); got != tt.want {
				t.Errorf("retry = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResponseMessageFlattensMultiErrors(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}, "permission denied; invalid token"},
		{[]string{"1 error occurred:\n\t* permission denied\n\n"}, "permission denied"},
		{[]string{`Role "x" not found`}, `Role "x" not found`},
		{[]string{"a", "b\nc"}, "a; b c"},
	}
	for _, tt := range tests {
		if got := ResponseMessage(&api.ResponseError{StatusCode: 403, Errors: tt.in}); got != tt.want {
			t.Errorf("ResponseMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// httpResponse is an answer with status and, unless empty, a Retry-After
// header.
func httpResponse(status int, retryAfter string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}}
	if retryAfter != "" {
		r.Header.Set("Retry-After", retryAfter)
	}
	return r
}

// TestRetryLoggerCutsQueries: go-retryablehttp logs a failed request's URL
// even when it does not retry; a query may hold a secret (the oidc code).
func TestRetryLoggerCutsQueries(t *testing.T) {
	var got string
	l := retryLogger{debugf: func(f string, a ...any) { got = fmt.Sprintf(f, a...) }}
	l.Error("request failed", "error", `Get "http://127.0.0.1:1/v1/auth/oidc/oidc/callback?client_nonce=N0NCE&code=SECRETCODE&state=S": dial tcp: refused`,
		"url", "http://127.0.0.1:1/v1/auth/oidc/oidc/callback?client_nonce=N0NCE&code=SECRETCODE&state=S")
	for _, secret := range []string{"SECRETCODE", "N0NCE"} {
		if strings.Contains(got, secret) {
			t.Errorf("the debug line holds %s: %s", secret, got)
		}
	}
	if !strings.Contains(got, "/v1/auth/oidc/oidc/callback?...") {
		t.Errorf("the debug line lost the path: %s", got)
	}
}
