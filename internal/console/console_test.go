package console

import (
	"context"
	"encoding/json"
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

const (
	testSecret = "s3cr3t/key+with=chars&more"
	testToken  = "session-token/with+plus=and&amp"
	testSignin = "SIGNIN-token_abc-123"
)

var testCreds = Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: testSecret, SessionToken: testToken}

// fakeFederation is a federation endpoint on loopback that answers status
// and body, and records the query of each request.
type fakeFederation struct {
	*httptest.Server
	mu      sync.Mutex
	queries []url.Values
}

func newFakeFederation(t *testing.T, status int, body string) *fakeFederation {
	t.Helper()
	f := &fakeFederation{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.queries = append(f.queries, r.URL.Query())
		f.mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Path != "/federation" {
			http.Error(w, "wrong method or path", http.StatusNotFound)
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeFederation) endpoint() string { return f.URL + "/federation" }

func (f *fakeFederation) only(t *testing.T) url.Values {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) != 1 {
		t.Fatalf("%d requests, want 1", len(f.queries))
	}
	return f.queries[0]
}

func TestSigninTokenSendsTheSession(t *testing.T) {
	for _, tt := range []struct {
		name     string
		duration time.Duration
		want     string // SessionDuration sent, "" for none
	}{
		{"no duration", 0, ""},
		{"duration", 2 * time.Hour, "7200"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeFederation(t, 200, `{"SigninToken":"`+testSignin+`"}`)
			token, err := signinToken(context.Background(), HTTPClient(), f.endpoint(), testCreds, tt.duration)
			if err != nil || token != testSignin {
				t.Fatalf("signinToken = %q, %v", token, err)
			}
			q := f.only(t)
			if q.Get("Action") != "getSigninToken" {
				t.Errorf("Action = %q", q.Get("Action"))
			}
			var session map[string]string
			if err := json.Unmarshal([]byte(q.Get("Session")), &session); err != nil {
				t.Fatalf("Session %q: %v", q.Get("Session"), err)
			}
			want := map[string]string{"sessionId": testCreds.AccessKeyID, "sessionKey": testSecret, "sessionToken": testToken}
			if fmt.Sprint(session) != fmt.Sprint(want) {
				t.Errorf("Session = %v, want %v", session, want)
			}
			if _, sent := q["SessionDuration"]; q.Get("SessionDuration") != tt.want || sent != (tt.want != "") {
				t.Errorf("SessionDuration = %q (sent %v), want %q", q.Get("SessionDuration"), sent, tt.want)
			}
		})
	}
}

// A failure names what failed and never quotes the request, its answer or
// the URL: they hold the credentials or the token.
func TestSigninTokenFailures(t *testing.T) {
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/elsewhere?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer redirect.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	tests := []struct {
		name, endpoint, want string
	}{
		{"refused", newFakeFederation(t, 400, "bad Session "+testSecret).endpoint(), "answered 400 Bad Request"},
		{"not json", newFakeFederation(t, 200, "<html>"+testSecret).endpoint(), "not valid JSON"},
		{"no token", newFakeFederation(t, 200, `{"Other":"x"}`).endpoint(), "no SigninToken"},
		{"token with a space", newFakeFederation(t, 200, `{"SigninToken":"a b"}`).endpoint(), "printable ASCII"},
		{"too large", newFakeFederation(t, 200, `{"SigninToken":"`+strings.Repeat("a", maxAnswer)+`"}`).endpoint(), "larger than 64 KiB"},
		{"redirect", redirect.URL + "/federation", "redirected elsewhere"},
		{"timeout", slow.URL + "/federation", "did not answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := signinToken(ctx, HTTPClient(), tt.endpoint, testCreds, 0)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
			for _, secret := range []string{testSecret, url.QueryEscape(testSecret), testToken, url.QueryEscape(testToken), "Session="} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds %q", err, secret)
				}
			}
		})
	}
}

func TestSignInRefusals(t *testing.T) {
	long := Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: testSecret}
	tests := []struct {
		name string
		r    Request
		want error // or nil, then wantText
		text string
	}{
		{"session token", Request{Credentials: testCreds, Kind: SessionToken, Region: "us-east-1"}, ErrSessionToken, ""},
		{"duration of a federation token", Request{Credentials: testCreds, Kind: FederationToken, Region: "us-east-1", Duration: time.Hour}, errDurationFixed, ""},
		{"duration too long", Request{Credentials: testCreds, Kind: AssumedRole, Region: "us-east-1", Duration: 13 * time.Hour}, nil, "from 15m to 12h"},
		{"duration too short", Request{Credentials: long, Kind: LongTerm, Region: "us-east-1", Duration: time.Minute}, nil, "from 15m to 36h"},
		{"bad region", Request{Credentials: testCreds, Kind: AssumedRole, Region: "us-east-1.evil.com/"}, nil, "not an AWS region"},
		{"plain http elsewhere", Request{Credentials: testCreds, Kind: AssumedRole, Region: "us-east-1", Endpoint: "http://example.com/federation"}, nil, "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SignIn(context.Background(), tt.r)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.want == nil && (err == nil || !strings.Contains(err.Error(), tt.text)) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.text)
			}
		})
	}
}

func TestSignInBuildsTheLoginURL(t *testing.T) {
	f := newFakeFederation(t, 200, `{"SigninToken":"`+testSignin+`"}`)
	dest := "https://us-west-2.console.aws.amazon.com/s3/home?region=us-west-2&x=a b"
	got, err := SignIn(context.Background(), Request{Credentials: testCreds, Kind: AssumedRole, Region: "us-west-2",
		Endpoint: f.endpoint(), Destination: dest, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if base := u.Scheme + "://" + u.Host + u.Path; base != f.endpoint() {
		t.Errorf("login URL goes to %s, want %s", base, f.endpoint())
	}
	q := u.Query()
	want := url.Values{"Action": {"login"}, "Issuer": {Issuer}, "Destination": {dest}, "SigninToken": {testSignin}}
	if fmt.Sprint(q) != fmt.Sprint(want) {
		t.Errorf("login URL query = %v, want %v", q, want)
	}
	if strings.Contains(u.RawQuery, " ") || strings.Contains(u.RawQuery, dest) {
		t.Errorf("Destination is not encoded: %s", u.RawQuery)
	}
	if d := f.only(t).Get("SessionDuration"); d != "3600" {
		t.Errorf("SessionDuration = %q, want 3600", d)
	}
}

func TestPartitions(t *testing.T) {
	for _, tt := range []struct{ region, endpoint, dest string }{
		{"us-east-1", "https://signin.aws.amazon.com/federation", "https://us-east-1.console.aws.amazon.com/console/home?region=us-east-1"},
		{"eu-central-2", "https://signin.aws.amazon.com/federation", "https://eu-central-2.console.aws.amazon.com/console/home?region=eu-central-2"},
		{"us-gov-west-1", "https://signin.amazonaws-us-gov.com/federation", "https://us-gov-west-1.console.amazonaws-us-gov.com/console/home?region=us-gov-west-1"},
		{"cn-north-1", "https://signin.amazonaws.cn/federation", "https://cn-north-1.console.amazonaws.cn/console/home?region=cn-north-1"},
	} {
		if !ValidRegion(tt.region) {
			t.Errorf("ValidRegion(%q) = false", tt.region)
		}
		if got := federationEndpoint(tt.region); got != tt.endpoint {
			t.Errorf("federationEndpoint(%q) = %q, want %q", tt.region, got, tt.endpoint)
		}
		if got := defaultDestination(tt.region); got != tt.dest {
			t.Errorf("defaultDestination(%q) = %q, want %q", tt.region, got, tt.dest)
		}
	}
	for _, bad := range []string{"", "us", "US-EAST-1", "us-east-1.evil", "us-east-1/x", "a-b-c-d-e-f"} {
		if ValidRegion(bad) {
			t.Errorf("ValidRegion(%q) = true", bad)
		}
	}
}

func TestCheckEndpointAndDestination(t *testing.T) {
	for _, tt := range []struct {
		endpoint string
		ok       bool
	}{
		{"https://signin.aws.amazon.com/federation", true},
		{"http://127.0.0.1:8080/federation", true},
		{"http://[::1]:8080/federation", true},
		{"http://localhost/federation", true},
		{"http://signin.aws.amazon.com/federation", false},
		{"https://user:pw@signin.aws.amazon.com/federation", false},
		{"https://signin.aws.amazon.com/federation?x=1", false},
		{"ftp://x/federation", false},
		{"/federation", false},
	} {
		if err := CheckEndpoint(tt.endpoint); (err == nil) != tt.ok {
			t.Errorf("CheckEndpoint(%q) = %v, want ok %v", tt.endpoint, err, tt.ok)
		}
	}
	for _, tt := range []struct {
		dest string
		ok   bool
	}{
		{"https://console.aws.amazon.com/s3", true},
		{"http://console.aws.amazon.com/", false},
		{"javascript:alert(1)", false},
		{"s3", false},
	} {
		if err := CheckDestination(tt.dest); (err == nil) != tt.ok {
			t.Errorf("CheckDestination(%q) = %v, want ok %v", tt.dest, err, tt.ok)
		}
	}
}

func TestCheckDuration(t *testing.T) {
	for _, tt := range []struct {
		kind Kind
		d    time.Duration
		ok   bool
	}{
		{AssumedRole, 0, true},
		{AssumedRole, 15 * time.Minute, true},
		{AssumedRole, 12 * time.Hour, true},
		{AssumedRole, 12*time.Hour + time.Second, false},
		{AssumedRole, 14 * time.Minute, false},
		{AssumedRole, 20*time.Minute + time.Millisecond, false},
		{LongTerm, 36 * time.Hour, true},
		{LongTerm, 37 * time.Hour, false},
		{FederationToken, 0, true},
		{FederationToken, time.Hour, false},
		{SessionToken, time.Hour, false},
	} {
		if err := CheckDuration(tt.kind, tt.d); (err == nil) != tt.ok {
			t.Errorf("CheckDuration(%s, %s) = %v, want ok %v", tt.kind, tt.d, err, tt.ok)
		}
	}
	if err := CheckDuration(SessionToken, time.Hour); !errors.Is(err, ErrSessionToken) {
		t.Errorf("CheckDuration(session token) = %v, want ErrSessionToken", err)
	}
}

// TestDurationRange: the range the messages state is the one CheckDuration
// applies; the kinds that take no duration have none.
func TestDurationRange(t *testing.T) {
	for kind, want := range map[Kind][2]time.Duration{
		AssumedRole:     {15 * time.Minute, 12 * time.Hour},
		LongTerm:        {15 * time.Minute, 36 * time.Hour},
		FederationToken: {0, 0},
		SessionToken:    {0, 0},
	} {
		if lo, hi := DurationRange(kind); lo != want[0] || hi != want[1] {
			t.Errorf("DurationRange(%s) = %s, %s; want %s, %s", kind, lo, hi, want[0], want[1])
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * time.Minute:                  "15m",
		36 * time.Hour:                    "36h",
		90 * time.Minute:                  "1h30m",
		10 * time.Second:                  "10s",
		time.Hour + 30*time.Second:        "1h0m30s",
		2*time.Hour + 3*time.Minute + 4e9: "2h3m4s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestFederatedName(t *testing.T) {
	for in, want := range map[string]string{
		"dev":                          "dev",
		"team/dev role":                "team-dev-role",
		"x":                            "vault-credential-process",
		strings.Repeat("abcdefgh", 5):  strings.Repeat("abcdefgh", 4),
		"user@example.com,a=b+c_d.e-f": "user@example.com,a=b+c_d.e-f",
	} {
		if got := FederatedName(in); got != want {
			t.Errorf("FederatedName(%q) = %q, want %q", in, got, want)
		}
	}
}
