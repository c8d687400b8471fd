package process

import (
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// openBrowser starts a browser at url and returns at once: the first
// command of $BROWSER that starts (a list like PATH's; "%s" in a command
// stands for the URL, else it is appended), else the system's handler
// (xdg-open, open, or Windows' URL handler). The browser is never waited
// for, and is detached from the run: no terminal, no pipes of ours (a
// browser that outlives the run must not hold the AWS client's pipes
// open), a session of its own. It returns what it ran, without the URL.
func openBrowser(url string, getenv func(string) string) (string, error) {
	cmds := browserCommands(url, getenv)
	if len(cmds) == 0 {
		return "", errors.New("no graphical display (DISPLAY and WAYLAND_DISPLAY are not set) and no $BROWSER")
	}
	var errs []error
	for _, argv := range cmds {
		cmd := exec.Command(argv[0], argv[1:]...)
		detach(cmd)
		if err := cmd.Start(); err != nil {
			errs = append(errs, err)
			continue
		}
		go func() { _ = cmd.Wait() }() // reaped when it ends; never waited for
		return argv[0], nil
	}
	return "", errors.Join(errs...)
}

// browserCommands lists the commands that may open url, in order.
func browserCommands(url string, getenv func(string) string) [][]string {
	if b := getenv("BROWSER"); strings.TrimSpace(b) != "" {
		var cmds [][]string
		for _, c := range filepath.SplitList(b) {
			words := strings.Fields(c)
			if len(words) == 0 {
				continue
			}
			replaced := false
			for i, w := range words {
				if strings.Contains(w, "%s") {
					words[i], replaced = strings.ReplaceAll(w, "%s", url), true
				}
			}
			if !replaced {
				words = append(words, url)
			}
			cmds = append(cmds, words)
		}
		return cmds
	}
	switch runtime.GOOS {
	case "darwin":
		return [][]string{{"open", url}}
	case "windows":
		return [][]string{{"rundll32", "url.dll,FileProtocolHandler", url}}
	}
	// Without a display, xdg-open falls back to text browsers that want the
	// terminal, which a detached child cannot have: show the URL instead.
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return nil
	}
	return [][]string{{"xdg-open", url}}
}
