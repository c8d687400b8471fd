//go:build unix

package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

const secretURL = "https://signin.aws.amazon.com/federation?Action=login&Destination=https%3A%2F%2Fx&SigninToken=TOKEN-a&b<c>\"d"

// recorder writes a browser script that records its arguments, and the
// page and its folder's modes as it saw them, into dir.
func recorder(t *testing.T, dir string) string {
	t.Helper()
	script := filepath.Join(dir, "browser")
	body := `#!/bin/sh
printf '%s\n' "$@" > "` + dir + `/argv"
for a in "$@"; do
  if [ -f "$a" ]; then
    cp "$a" "` + dir + `/page"
    { ls -ld "$a"; ls -ld "$(dirname "$a")"; } | cut -c1-10 > "` + dir + `/modes"
  fi
done
`
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenHandsThePageNotTheURL(t *testing.T) {
	for _, tt := range []struct {
		name    string
		browser func(script string) string
	}{
		{"appended", func(s string) string { return s }},
		{"placeholder", func(s string) string { return s + " --new-tab %s" }},
		{"second of a list", func(s string) string { return "/nonexistent/browser:" + s }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			browser := tt.browser(recorder(t, dir))
			o := Opener{Getenv: func(k string) string { return map[string]string{"BROWSER": browser}[k] },
				Handoff: time.Nanosecond, MaxWait: time.Minute}
			if err := o.Open(context.Background(), secretURL); err != nil {
				t.Fatal(err)
			}
			argv := read(t, filepath.Join(dir, "argv"))
			if strings.Contains(argv, "TOKEN") || strings.Contains(argv, "https:") {
				t.Errorf("the browser's argv holds the URL: %q", argv)
			}
			args := strings.Split(strings.TrimSpace(argv), "\n")
			page := args[len(args)-1]
			if filepath.Base(page) != pageName || (tt.name == "placeholder" && args[0] != "--new-tab") {
				t.Errorf("argv %q, want [--new-tab] and the page", args)
			}
			if got, want := read(t, filepath.Join(dir, "page")), string(redirectPage(secretURL)); got != want {
				t.Errorf("page:\n%s\nwant:\n%s", got, want)
			}
			if modes := read(t, filepath.Join(dir, "modes")); modes != "-rw-------\ndrwx------\n" {
				t.Errorf("modes of page and folder:\n%s", modes)
			}
			if _, err := os.Stat(filepath.Dir(page)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the page's folder is still there: %v", err)
			}
		})
	}
}

func TestPageEscapesTheURL(t *testing.T) {
	p := string(redirectPage(secretURL))
	if strings.Contains(p, `<c>"d`) || !strings.Contains(p, `&lt;c&gt;&#34;d`) || !strings.Contains(p, "&amp;SigninToken=") {
		t.Errorf("the URL is not escaped for HTML:\n%s", p)
	}
}

func TestOpenFailures(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "failing")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\nexit 3\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, browser, want string }{
		{"fails", failing, "the browser command " + failing + " failed: exit status 3"},
		{"none", "/nonexistent/a:/nonexistent/b", "no browser command found (tried /nonexistent/a, /nonexistent/b)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			o := Opener{Getenv: func(k string) string { return map[string]string{"BROWSER": tt.browser}[k] }, MaxWait: time.Minute}
			err := o.Open(context.Background(), secretURL)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left behind in TMPDIR: %v", left)
			}
		})
	}
}

func TestCommandsPerPlatform(t *testing.T) {
	for goos, want := range map[string]string{
		"linux":   "xdg-open /p",
		"freebsd": "xdg-open /p",
		"darwin":  "open /p",
		"windows": "rundll32 url.dll,FileProtocolHandler /p",
	} {
		o := Opener{Getenv: func(k string) string { return map[string]string{"DISPLAY": ":0"}[k] }, GOOS: goos}
		if got := o.commands("/p"); len(got) != 1 || strings.Join(got[0], " ") != want {
			t.Errorf("%s: %q, want %q", goos, got, want)
		}
	}
	o := Opener{Getenv: func(string) string { return "" }, GOOS: "linux"}
	if _, _, err := o.start("/p"); !errors.Is(err, errNoDisplay) {
		t.Errorf("linux without a display: %v, want errNoDisplay", err)
	}
}

// TestStartPage: the first command of BROWSER that starts gets a private
// page leading to the URL (never the URL itself, which may carry a login's
// state), with %s substituted or appended; StartPage returns without
// waiting for the browser, and the page goes when ctx ends.
func TestStartPage(t *testing.T) {
	dir := t.TempDir()
	// The browser copies the page it was given into a FIFO: reading it
	// waits for the browser, which StartPage does not.
	got := filepath.Join(dir, "page")
	if err := syscall.Mkfifo(got, 0o600); err != nil {
		t.Fatal(err)
	}
	args := filepath.Join(dir, "args")
	script := filepath.Join(dir, "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+args+"\ncat \"$2\" > "+got+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	list := filepath.Join(dir, "missing-browser") + string(os.PathListSeparator) + script + " --new-tab %s"
	const target = "https://vault.example/ui/authorize?state=s"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := Opener{Getenv: env(map[string]string{"BROWSER": list}), Title: "the Vault login"}
	name, remove, err := o.StartPage(ctx, target)
	if err != nil || name != script {
		t.Fatalf("StartPage = %q, %v; want the second command of BROWSER", name, err)
	}
	read := make(chan []byte, 1)
	go func() { b, _ := os.ReadFile(got); read <- b }()
	page := testenv.WaitFor(t, read, "the page the browser was given")
	if string(page) != string(o.page(target)) {
		t.Errorf("the browser got the page %q", page)
	}
	if a, _ := os.ReadFile(args); strings.Contains(string(a), "state=") || !strings.HasPrefix(string(a), "--new-tab\n/") {
		t.Errorf("the browser's arguments are %q: want --new-tab and the page's path, not the URL", a)
	}
	remove()
	if _, _, err := (Opener{Getenv: env(nil), GOOS: "linux"}).StartPage(ctx, target); !errors.Is(err, errNoDisplay) {
		t.Errorf("no display and no BROWSER: %v, want errNoDisplay", err)
	}
}

// TestStartPageRemove: remove takes the page away at once, long before the
// handoff is over and while the browser still runs, and may be called again;
// a program that ends right after a login leaves no page behind.
func TestStartPageRemove(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	// A browser that stays until the test ends, like one in the foreground.
	hold := filepath.Join(dir, "hold")
	if err := syscall.Mkfifo(hold, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nread x < "+hold+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(hold, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	})
	o := Opener{Getenv: func(k string) string { return map[string]string{"BROWSER": script}[k] }, Handoff: time.Hour, MaxWait: time.Hour}
	_, remove, err := o.StartPage(context.Background(), secretURL)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 1 || !strings.HasPrefix(left[0].Name(), "vault-credential-process-login-") {
		t.Fatalf("TMPDIR holds %v, want the page's folder", left)
	}
	remove()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind in TMPDIR after remove: %v", left)
	}
	remove()
}

// TestBrowserEnvironment: the browser gets the environment without the
// secrets the helper knows of, nor the variables the caller hides; the rest
// is there.
func TestBrowserEnvironment(t *testing.T) {
	hidden := append(append([]string(nil), Secrets...), "MY_SECRET_ID", "MY_PASSWORD")
	for _, name := range hidden {
		t.Setenv(name, "secret-of-"+name)
	}
	t.Setenv("VCP_KEPT", "kept")
	dir := t.TempDir()
	dump := filepath.Join(dir, "environ")
	script := filepath.Join(dir, "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nenv > "+dump+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	o := Opener{Getenv: func(k string) string { return map[string]string{"BROWSER": script}[k] },
		Handoff: time.Nanosecond, MaxWait: time.Minute, Hide: []string{"MY_SECRET_ID", "MY_PASSWORD", ""}}
	if err := o.Open(context.Background(), secretURL); err != nil {
		t.Fatal(err)
	}
	env := read(t, dump)
	for _, name := range hidden {
		if strings.Contains(env, name+"=") || strings.Contains(env, "secret-of-") {
			t.Errorf("the browser's environment holds %s", name)
		}
	}
	if !strings.Contains(env, "\nVCP_KEPT=kept\n") && !strings.HasPrefix(env, "VCP_KEPT=kept\n") {
		t.Errorf("the browser's environment lacks VCP_KEPT:\n%s", env)
	}
}

// TestOpenHanded: a browser command that exits 0 while the page waits (a
// launcher that handed it on) is reported at once, long before the handoff
// is over, with the command's name; one that fails, or still runs when the
// wait ends (a browser in the foreground), is not.
func TestOpenHanded(t *testing.T) {
	dir := t.TempDir()
	hold := filepath.Join(dir, "hold")
	if err := syscall.Mkfifo(hold, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(hold, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	})
	script := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		return path
	}
	launcher, failing, foreground := script("launcher", "exit 0"), script("failing", "exit 3"), script("foreground", "read x < "+hold)
	for _, tt := range []struct {
		name, browser    string
		handoff, maxWait time.Duration
		wantErr          string // "" for none
		wantHanded       []string
	}{
		// The handoff is an hour: only the report (which cancels) ends the wait.
		{"launcher returns", launcher, time.Hour, time.Hour, context.Canceled.Error(), []string{launcher}},
		{"command fails", failing, time.Hour, time.Hour, "the browser command " + failing + " failed: exit status 3", nil},
		{"command runs past the wait", foreground, time.Nanosecond, time.Nanosecond, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The long bound only stops a hung test (no report).
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var handed []string
			o := Opener{Getenv: func(k string) string { return map[string]string{"BROWSER": tt.browser}[k] },
				Handoff: tt.handoff, MaxWait: tt.maxWait,
				Handed: func(name string) { handed = append(handed, name); cancel() }}
			err := o.Open(ctx, secretURL)
			if got := fmt.Sprint(err); (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && got != tt.wantErr) {
				t.Errorf("Open: %v, want %q", err, tt.wantErr)
			}
			if strings.Join(handed, ",") != strings.Join(tt.wantHanded, ",") {
				t.Errorf("Handed with %q, want %q", handed, tt.wantHanded)
			}
		})
	}
}
