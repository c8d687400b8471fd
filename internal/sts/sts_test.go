package sts

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCaller: GetCallerIdentity signed for the region, its answer's account, ARN and
// user id read back.
func TestCaller(t *testing.T) {
	var auth, token, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, token = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token")
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		fmt.Fprint(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn>`+
			`<UserId>AROA:s</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
	}))
	defer srv.Close()
	call := Call{Endpoint: srv.URL, Region: "eu-west-1", HTTP: srv.Client(), Keys: Keys{AccessKeyID: "ASIATEST", SecretAccessKey: "s", SessionToken: "tok"}}
	id, err := Caller(context.Background(), call, 0, Backoff, t.Logf)
	if err != nil || id != (Identity{Account: "123456789012", Arn: "arn:aws:sts::123456789012:assumed-role/r/s", UserID: "AROA:s"}) {
		t.Fatalf("Caller = %+v, %v", id, err)
	}
	if !strings.Contains(auth, "Credential=ASIATEST/") || !strings.Contains(auth, "/eu-west-1/sts/aws4_request") || token != "tok" {
		t.Errorf("Authorization %q, X-Amz-Security-Token %q", auth, token)
	}
	if body != "Action=GetCallerIdentity&Version=2011-06-15" {
		t.Errorf("body %q", body)
	}
	if acct, err := CallerIdentity(context.Background(), call, 0, Backoff, t.Logf); err != nil || acct != "123456789012" {
		t.Errorf("CallerIdentity = %q, %v", acct, err)
	}
}

// TestSign signs every header the request has, and the session token only when
// there is one.
func TestSign(t *testing.T) {
	for _, tt := range []struct {
		keys   Keys
		signed string
	}{
		{Keys{AccessKeyID: "AKIA", SecretAccessKey: "s"}, "SignedHeaders=content-type;host;x-amz-date;x-custom,"},
		{Keys{AccessKeyID: "ASIA", SecretAccessKey: "s", SessionToken: "t"}, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-custom,"},
	} {
		req, _ := http.NewRequest(http.MethodPost, "https://sts.amazonaws.com/", nil)
		req.Header.Set("Content-Type", FormType)
		req.Header.Set("X-Custom", "v")
		if err := Sign(context.Background(), req, nil, tt.keys, "us-east-1", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if a := req.Header.Get("Authorization"); !strings.Contains(a, tt.signed) || req.Header.Get("X-Amz-Date") != "20260102T030405Z" {
			t.Errorf("Authorization %q, want %q", a, tt.signed)
		}
	}
}
