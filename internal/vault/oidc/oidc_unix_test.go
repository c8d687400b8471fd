//go:build unix

package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/browser"
	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
)

// browserScript writes a $BROWSER script with body into a new folder.
func browserScript(t *testing.T, body string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script
}

// loginPages are the sign-in pages' folders left in dir.
func loginPages(t *testing.T, dir string) []string {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(dir, "vault-credential-process-login-*"))
	if err != nil {
		t.Fatal(err)
	}
	return left
}

// TestOIDCLoginRemovesThePage: the page the browser was given (it holds
// the URL with the login's state) is gone when Login returns, however the
// login ended: a program that ends right after it leaves nothing behind.
func TestOIDCLoginRemovesThePage(t *testing.T) {
	script := browserScript(t, "exit 0\n")
	for _, tt := range []struct {
		name    string
		deliver func(t *testing.T, authURL string)
		wantErr string
	}{
		{"timeout", nil, "no login from the browser within login_timeout"},
		{"refused by the identity provider", func(t *testing.T, authURL string) {
			u, _ := url.Parse(authURL)
			if resp, err := http.Get(u.Query().Get("redirect_uri") + "?state=st-1&error=access_denied"); err == nil {
				resp.Body.Close()
			}
		}, "the identity provider refused"},
		{"logged in", func(t *testing.T, authURL string) { redirect(t, authURL, "st-1", oidcCode) }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			ov := newOIDCVault(t)
			o, c, _ := oidcFixture(t, ov, nil)
			o.Auth.LoginTimeout = 300 * time.Millisecond
			if tt.deliver != nil {
				o.Auth.LoginTimeout = time.Minute
			}
			// A launcher that returns at once, as xdg-open does: the page
			// would stay for browser.Handoff.
			opener := browser.Opener{Getenv: func(k string) string { return map[string]string{"BROWSER": script}[k] }}
			o.browse = func(ctx context.Context, u string) (string, func(), error) {
				name, remove, err := opener.StartPage(ctx, u)
				if err == nil && tt.deliver != nil {
					go tt.deliver(t, u)
				}
				return name, remove, err
			}
			_, err := o.Login(context.Background(), c)
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Login = %v, want %q", err, tt.wantErr)
			}
			if left := loginPages(t, tmp); len(left) != 0 {
				t.Errorf("the sign-in page is left behind: %v", left)
			}
		})
	}
}

// TestOIDCBrowserEnvironment: the browser the oidc login starts gets none
// of the secrets the helper knows of in its environment.
func TestOIDCBrowserEnvironment(t *testing.T) {
	testenv.ClearVaultAWS(t)
	t.Setenv("TMPDIR", t.TempDir())
	for _, name := range browser.Secrets {
		t.Setenv(name, "secret-of-"+name)
	}
	t.Setenv("VCP_KEPT", "kept")
	dir := t.TempDir()
	dump := filepath.Join(dir, "environ")
	if err := syscall.Mkfifo(dump, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BROWSER", browserScript(t, "env > "+dump+"\n"))
	ov := newOIDCVault(t)
	fixture, c, _ := oidcFixture(t, ov, nil)
	o := newLogin(vault.BrowserLogin{Auth: fixture.Auth, Timeout: 30 * time.Second, Getenv: os.Getenv, OpenTTY: fixture.OpenTTY,
		Stderr: os.Stderr, Debugf: func(string, ...any) {}, Now: time.Now})
	o.Auth.LoginTimeout = time.Minute
	read := make(chan string, 1)
	go func() { b, _ := os.ReadFile(dump); read <- string(b) }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := o.Login(ctx, c); done <- err }()
	env := testenv.WaitFor(t, read, "the browser's environment")
	cancel()
	if err := testenv.WaitFor(t, done, "the login"); !errors.Is(err, context.Canceled) {
		t.Errorf("Login = %v, want it cancelled", err)
	}
	if strings.Contains(env, "secret-of-") {
		t.Errorf("the browser got a secret in its environment:\n%s", env)
	}
	if !strings.Contains("\n"+env, "\nVCP_KEPT=kept\n") {
		t.Errorf("the browser's environment lacks VCP_KEPT:\n%s", env)
	}
}
