// Command oidcbrowser is the scripted browser of the oidc login tests: set as
// $BROWSER, it is started with the identity provider's URL (Vault's own provider,
// see ../oidcbed.go), authorizes there through the API with a Vault token of the
// user, and goes back to the redirect URI with the code, as a browser would after
// the person signed in. It records what it did, one line each, in a log the
// test keeps: it is started detached and never waited for, so it cannot report
// otherwise.
//
// Environment: VCP_BROWSER_VAULT (Vault's address), VCP_BROWSER_TOKEN (the user's
// token), VCP_BROWSER_LOG (the URL of the test's log sink, which gets one POST per
// line), VCP_BROWSER_MODE: "" to deliver the callback,
// "wrong-state-first" to deliver one with another state first, "none" to do
// nothing (the person never signs in), "print" to write the address the browser
// would end at to VCP_BROWSER_OUT instead of going there (a remote machine).
// Whatever the mode, it reports which secrets it found in its environment
// ("environ clean" when none).
package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// secrets are the variables holding a secret that no browser may be given.
var secrets = []string{"VAULT_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN"}

func main() {
	logf("open")
	var found []string
	for _, name := range secrets {
		if _, ok := os.LookupEnv(name); ok {
			found = append(found, name)
		}
	}
	if len(found) == 0 {
		found = []string{"clean"}
	}
	logf("environ %s", strings.Join(found, " "))
	if len(os.Args) != 2 {
		logf("error: want one argument, the URL; got %q", os.Args[1:])
		os.Exit(2)
	}
	mode := os.Getenv("VCP_BROWSER_MODE")
	if mode == "none" {
		return
	}
	target, err := pageTarget(os.Args[1])
	if err != nil {
		logf("error: %v", err)
		os.Exit(1)
	}
	back, err := authorize(target)
	if err != nil {
		logf("error: %v", err)
		os.Exit(1)
	}
	if mode == "print" {
		if err := os.WriteFile(os.Getenv("VCP_BROWSER_OUT"), []byte(back.String()), 0o600); err != nil {
			logf("error: %v", err)
			return
		}
		logf("printed")
		return
	}
	if mode == "wrong-state-first" {
		wrong := *back
		q := wrong.Query()
		q.Set("state", "st_not-this-login")
		wrong.RawQuery = q.Encode()
		logf("wrong-state %d", get(&wrong))
	}
	preflight(back)
	logf("callback %d", get(back))
}

// authorize asks Vault's provider for a code for the query of authURL, and returns
// the redirect URI with the code and state.
func authorize(authURL string) (*url.URL, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest("GET", os.Getenv("VCP_BROWSER_VAULT")+"/v1/identity/oidc/provider/default/authorize?"+u.RawQuery, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Vault-Token", os.Getenv("VCP_BROWSER_TOKEN"))
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct{ Code, State string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil || out.Code == "" {
		return nil, fmt.Errorf("authorize: status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	logf("code %s", out.Code)
	back, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil {
		return nil, err
	}
	back.RawQuery = url.Values{"code": {out.Code}, "state": {out.State}}.Encode()
	return back, nil
}

// preflight sends the private-network preflight a browser sends before a public
// page leads it to a loopback address, and records whether it was allowed.
func preflight(u *url.URL) {
	req, _ := http.NewRequest("OPTIONS", u.String(), nil)
	req.Header.Set("Origin", os.Getenv("VCP_BROWSER_VAULT"))
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Private-Network", "true")
	resp, err := client.Do(req)
	if err != nil {
		logf("preflight error: %v", err)
		return
	}
	resp.Body.Close()
	logf("preflight %d allow-private-network=%s", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Private-Network"))
}

func get(u *url.URL) int {
	resp, err := client.Get(u.String())
	if err != nil {
		logf("get error: %v", err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// logf sends one line to the log, a sink of the test at VCP_BROWSER_LOG, and returns
// once the test has it.
func logf(format string, args ...any) {
	resp, err := client.Post(os.Getenv("VCP_BROWSER_LOG"), "text/plain", strings.NewReader(fmt.Sprintf(format, args...)))
	if err == nil {
		resp.Body.Close()
	}
}

// pageTarget is where a browser given arg goes: arg itself if it is a URL,
// else the page file's refresh target (the helper hands the browser a
// private redirect page, not the URL).
func pageTarget(arg string) (string, error) {
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		return arg, nil
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`content="0;url=([^"]+)"`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s is no redirect page", arg)
	}
	return html.UnescapeString(string(m[1])), nil
}
