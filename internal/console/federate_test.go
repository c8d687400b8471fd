package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSTS answers GetFederationToken: first the errors given, each once,
// then credentials; it records the form of each request.
type fakeSTS struct {
	*httptest.Server
	mu     sync.Mutex
	errs   []string // error codes to answer with, in order
	forms  []url.Values
	authed []string // the Authorization header of each request
}

const fedAnswer = `<GetFederationTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetFederationTokenResult>
    <Credentials>
      <SessionToken>FED-session-token-value</SessionToken>
      <SecretAccessKey>FED-secret-key-value</SecretAccessKey>
      <Expiration>2030-01-02T03:04:05Z</Expiration>
      <AccessKeyId>ASIAFEDERATED</AccessKeyId>
    </Credentials>
    <FederatedUser><Arn>arn:aws:sts::123456789012:federated-user/dev</Arn><FederatedUserId>123456789012:dev</FederatedUserId></FederatedUser>
    <PackedPolicySize>6</PackedPolicySize>
  </GetFederationTokenResult>
  <ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>
</GetFederationTokenResponse>`

func newFakeSTS(t *testing.T, errs ...string) *fakeSTS {
	t.Helper()
	s := &fakeSTS{errs: errs}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.forms = append(s.forms, r.PostForm)
		s.authed = append(s.authed, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "text/xml")
		if len(s.errs) > 0 {
			code := s.errs[0]
			s.errs = s.errs[1:]
			w.WriteHeader(403)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`+
				`<Code>%s</Code><Message>refused by the fake</Message></Error><RequestId>r0</RequestId></ErrorResponse>`, code)
			return
		}
		fmt.Fprint(w, fedAnswer)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeSTS) requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.forms...)
}

var longTerm = Credentials{AccessKeyID: "AKIALONGTERM", SecretAccessKey: "long-term-secret-value"}

func noBackoff(int) time.Duration { return 0 }

func TestFederate(t *testing.T) {
	tests := []struct {
		name       string
		policy     string
		arns       []string
		wantPolicy string // "" for none sent
		wantARN    string
	}{
		{"the user's own permissions", "", nil, allowAll, ""},
		{"inline policy", `{"Version":"2012-10-17","Statement":[]}`, nil, `{"Version":"2012-10-17","Statement":[]}`, ""},
		{"managed policy only", "", []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, "", "arn:aws:iam::aws:policy/ReadOnlyAccess"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeSTS(t)
			got, exp, err := federate(context.Background(), longTerm, Federation{Region: "us-east-1", Endpoint: s.URL,
				Name: "dev", Policy: tt.policy, PolicyARNs: tt.arns, Duration: 2 * time.Hour, Backoff: noBackoff})
			if err != nil {
				t.Fatal(err)
			}
			want := Credentials{AccessKeyID: "ASIAFEDERATED", SecretAccessKey: "FED-secret-key-value", SessionToken: "FED-session-token-value"}
			if got != want || !exp.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
				t.Errorf("federate = %+v, %s", got, exp)
			}
			f := s.requests()[0]
			if f.Get("Action") != "GetFederationToken" || f.Get("Name") != "dev" || f.Get("DurationSeconds") != "7200" {
				t.Errorf("request %v", f)
			}
			if f.Get("Policy") != tt.wantPolicy || f.Get("PolicyArns.member.1.arn") != tt.wantARN {
				t.Errorf("Policy %q, PolicyArns %q; want %q, %q", f.Get("Policy"), f.Get("PolicyArns.member.1.arn"), tt.wantPolicy, tt.wantARN)
			}
			if a := s.authed[0]; !strings.Contains(a, "Credential=AKIALONGTERM/") || strings.Contains(a, longTerm.SecretAccessKey) {
				t.Errorf("request not signed with the long-term key: %q", a)
			}
		})
	}
}

// A key IAM just created is unknown to STS for a few seconds: federate
// retries it, and only it.
func TestFederateWaitsForKeyPropagation(t *testing.T) {
	s := newFakeSTS(t, "InvalidClientTokenId", "InvalidClientTokenId")
	var debug []string
	_, _, err := federate(context.Background(), longTerm, Federation{Region: "us-east-1", Endpoint: s.URL, Name: "dev",
		Backoff: noBackoff, Debugf: func(f string, a ...any) { debug = append(debug, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if len(debug) != 2 || !strings.Contains(debug[0], "does not know the IAM key yet") {
		t.Errorf("debug lines %q", debug)
	}

	s = newFakeSTS(t, "AccessDenied", "AccessDenied")
	_, _, err = federate(context.Background(), longTerm, Federation{Region: "us-east-1", Endpoint: s.URL, Name: "dev", Backoff: noBackoff})
	var se *STSError
	if !errors.As(err, &se) || se.Code != "AccessDenied" || len(s.requests()) != 1 {
		t.Errorf("AccessDenied: error %v after %d requests, want STSError AccessDenied after 1", err, len(s.requests()))
	}
}

// The wait for propagation is bounded: by Propagation, and by ctx.
func TestFederateGivesUp(t *testing.T) {
	always := make([]string, 100)
	for i := range always {
		always[i] = "InvalidClientTokenId"
	}
	s := newFakeSTS(t, always...)
	const propagation = 200 * time.Millisecond
	_, _, err := federate(context.Background(), longTerm, Federation{Region: "us-east-1", Endpoint: s.URL, Name: "dev",
		Propagation: propagation, Backoff: func(int) time.Duration { return propagation / 2 }})
	var se *STSError
	if !errors.As(err, &se) || se.Code != "InvalidClientTokenId" {
		t.Fatalf("error %v, want STSError InvalidClientTokenId", err)
	}
	// Waits of half the bound: the first fits, the second would end past
	// it (on a slow machine the first may not fit either).
	if n := len(s.requests()); n < 1 || n > 2 {
		t.Errorf("%d requests, want 2 at most", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = federate(ctx, longTerm, Federation{Region: "us-east-1", Endpoint: s.URL, Name: "dev", Backoff: noBackoff})
	if err == nil {
		t.Fatal("federate with a canceled context succeeded")
	}
}

func TestCheckPolicy(t *testing.T) {
	for _, tt := range []struct {
		policy string
		ok     bool
	}{
		{allowAll, true},
		{`[]`, false},
		{`{"Version":`, false},
		{`{"Sid":"` + strings.Repeat("a", maxPolicySize) + `"}`, false},
	} {
		if err := CheckPolicy(tt.policy); (err == nil) != tt.ok {
			t.Errorf("CheckPolicy(%.20q) = %v, want ok %v", tt.policy, err, tt.ok)
		}
	}
}
