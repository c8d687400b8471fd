// Package browser opens a URL that is a bearer credential in the user's web
// browser without putting it in any process's argv, where other local
// users could read it (/proc/PID/cmdline, ps): the URL goes into a redirect
// page, mode 0600 in a private temporary folder (0700), the browser is
// given the page's path, and the page is removed once the browser had time
// to read it. The browser is started without the secrets the helper knows
// of in its environment.
package browser

import (
	"context"
	"errors"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
)

// Handoff is how long the page stays on disk after the browser command
// started, by default: launchers such as xdg-open, open and the Windows
// handler return at once and the browser they hand the page to reads it
// later, perhaps after a cold start.
const Handoff = 10 * time.Second

// pageName is the file name of the redirect page in its private folder.
const pageName = "signin.html"

// Opener opens URLs in the browser.
type Opener struct {
	Getenv func(string) string // for BROWSER
	GOOS   string              // "" for runtime.GOOS
	// Handoff is how long the page stays at least after the browser
	// command started (Handoff above when 0); it also stays while the
	// command runs, up to MaxWait (at least Handoff). A command that exits
	// with an error ends the wait at once.
	Handoff time.Duration
	MaxWait time.Duration
	Debugf  func(format string, args ...any)
	// Title names the page and its link ("" for the AWS console's).
	Title string
	// Hide names environment variables the browser must not get, besides
	// Secrets: those the settings name for a secret (secret_id_env,
	// password_env, jwt_env).
	Hide []string
	// Environ is the environment the browser's is made from (os.Environ
	// when nil).
	Environ func() []string
	// Handed, when set, is called with the browser command's name when
	// the command exits successfully before the handoff is over: a
	// launcher (xdg-open, open, a $BROWSER script) took the page and
	// returned, and nothing tells whether a browser will show it. The
	// caller says so at once, rather than leave the user to a silent wait
	// for a window that may never come.
	Handed func(name string)
}

// Secrets are the variables that hold a secret the helper knows of; no
// browser gets them. A browser is a big program that starts helpers,
// extensions and crash reporters of its own, and keeps running after the
// helper ends: a Vault token or AWS key in its environment would outlive
// the login by days.
var Secrets = []string{
	"VAULT_TOKEN",
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"VAULT_CREDENTIAL_PROCESS_MFA_CODE",
}

// Open shows url in the browser through a private redirect page; it
// returns once the page is removed. ctx ending removes it at once.
func (o Opener) Open(ctx context.Context, url string) error {
	dir, cmd, name, err := o.launch(url)
	if err != nil {
		return err
	}
	err = o.wait(ctx, cmd, name)
	if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
		err = fmt.Errorf("remove the sign-in page: %w", rmErr)
	}
	return err
}

// StartPage is Open without the wait: it returns the launcher's name once
// it started, and the page is removed in the background, as Open would, or
// at the latest when remove is called. The caller calls remove on every way
// out (a background removal would not run once the program has ended), and
// it returns once the page is gone.
func (o Opener) StartPage(ctx context.Context, url string) (name string, remove func(), err error) {
	dir, cmd, name, err := o.launch(url)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var once sync.Once
	removeDir := func() { once.Do(func() { _ = os.RemoveAll(dir) }) }
	go func() {
		_ = o.wait(ctx, cmd, name)
		removeDir()
	}()
	return name, func() { cancel(); removeDir() }, nil
}

// launch writes the page for url into a private folder (0700) and starts
// the first browser command that starts with it.
func (o Opener) launch(url string) (dir string, cmd *exec.Cmd, name string, err error) {
	dir, err = os.MkdirTemp("", "vault-credential-process-login-") // mode 0700
	if err != nil {
		return "", nil, "", fmt.Errorf("create a private folder for the sign-in page: %w", err)
	}
	page := filepath.Join(dir, pageName)
	if err = smallfile.WriteFile(page, o.page(url), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", nil, "", fmt.Errorf("write the sign-in page: %w", err)
	}
	if cmd, name, err = o.start(page); err != nil {
		os.RemoveAll(dir)
		return "", nil, "", err
	}
	o.debugf("sign-in page %s opened with %s; removing it in %s", page, name, o.handoff())
	return dir, cmd, name, nil
}

// redirectPage is an HTML page that sends the browser on to url at once, with a
// link for browsers that do not follow the refresh.
func redirectPage(url string) []byte { return Opener{}.page(url) }

func (o Opener) page(url string) []byte {
	u, title := html.EscapeString(url), html.EscapeString(o.Title)
	if title == "" {
		title = "the AWS console"
	}
	return []byte(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=` + u + `">
<title>Sign-in: ` + title + `</title></head>
<body><p><a href="` + u + `">Continue to ` + title + `</a></p></body></html>
`)
}

// errNoBrowser says no browser command could be started; errNoDisplay
// that, on a system with xdg-open, there is no graphical display and no
// BROWSER.
var (
	errNoBrowser = errors.New("no browser command found")
	errNoDisplay = errors.New("no graphical display (DISPLAY and WAYLAND_DISPLAY are not set) and no BROWSER")
)

// start runs the first browser command that starts with page as argument.
func (o Opener) start(page string) (*exec.Cmd, string, error) {
	commands := o.commands(page)
	if len(commands) == 0 {
		return nil, "", errNoDisplay
	}
	var tried []string
	for _, argv := range commands {
		cmd := exec.Command(argv[0], argv[1:]...)
		// Its output is the browser's, not ours; its own process group, so
		// a Ctrl-C while the page waits does not close a browser it started.
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
		cmd.Env = o.env()
		detach(cmd)
		if err := cmd.Start(); err != nil {
			tried = append(tried, argv[0])
			o.debugf("browser command %s: %v", argv[0], err)
			continue
		}
		return cmd, argv[0], nil
	}
	return nil, "", fmt.Errorf("%w (tried %s)", errNoBrowser, strings.Join(tried, ", "))
}

// commands are the browser commands to try, each with page in it: the
// entries of BROWSER (separated as PATH is; %s stands for the page, else it
// goes last), else the platform's opener; none without a display.
func (o Opener) commands(page string) [][]string {
	var out [][]string
	if b := o.Getenv("BROWSER"); strings.TrimSpace(b) != "" {
		for _, entry := range filepath.SplitList(b) {
			words := strings.Fields(entry)
			if len(words) == 0 {
				continue
			}
			substituted := false
			for i, w := range words {
				if strings.Contains(w, "%s") {
					words[i] = strings.ReplaceAll(strings.ReplaceAll(w, "%s", page), "%%", "%")
					substituted = true
				}
			}
			if !substituted {
				words = append(words, page)
			}
			out = append(out, words)
		}
		return out
	}
	goos := o.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	switch goos {
	case "darwin":
		return [][]string{{"open", page}}
	case "windows":
		return [][]string{{"rundll32", "url.dll,FileProtocolHandler", page}}
	}
	// Without a display, xdg-open falls back to a text browser, which
	// wants the terminal that this program's process group holds.
	if o.Getenv("DISPLAY") == "" && o.Getenv("WAYLAND_DISPLAY") == "" {
		return nil
	}
	return [][]string{{"xdg-open", page}}
}

// wait returns when the page may go: once Handoff has passed since the
// start and the command has exited, but no later than MaxWait (a browser
// that runs in the foreground had that long to read the page); at once when
// the command fails or ctx ends.
func (o Opener) wait(ctx context.Context, cmd *exec.Cmd, name string) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	handoff := time.NewTimer(o.handoff())
	defer handoff.Stop()
	limit := time.NewTimer(max(o.MaxWait, o.handoff()))
	defer limit.Stop()
	for handedOff, exited := false, false; !handedOff || !exited; {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("the browser command %s failed: %w", name, err)
			}
			exited, done = true, nil
			if !handedOff && o.Handed != nil {
				o.Handed(name)
			}
		case <-handoff.C:
			handedOff = true
		case <-limit.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// env is the environment without Secrets and Hide.
func (o Opener) env() []string {
	environ := o.Environ
	if environ == nil {
		environ = os.Environ
	}
	hidden := append(slices.Clone(Secrets), o.Hide...)
	hides := func(name string) bool {
		return slices.ContainsFunc(hidden, func(h string) bool {
			// Windows spells variable names in any case.
			return h != "" && (h == name || (runtime.GOOS == "windows" && strings.EqualFold(h, name)))
		})
	}
	var out []string
	for _, kv := range environ() {
		if name, _, _ := strings.Cut(kv, "="); !hides(name) {
			out = append(out, kv)
		}
	}
	// Not nil: exec.Cmd would pass this program's whole environment.
	if out == nil {
		out = []string{}
	}
	return out
}

func (o Opener) handoff() time.Duration {
	if o.Handoff == 0 {
		return Handoff
	}
	return o.Handoff
}

func (o Opener) debugf(format string, args ...any) {
	if o.Debugf != nil {
		o.Debugf(format, args...)
	}
}
