// Package testbed runs the integration test bed: a Vault dev server whose AWS secrets
// engine talks to moto_server, a local fake of IAM and STS, so tests can prove the
// product's behaviour against the real Vault and real AWS clients.
//
// It owns the life of those two processes (ports, logs, process groups, clean-up), their
// configuration, and the clean environments AWS clients and the Vault CLI run in. It is
// imported only by tests; all traffic goes to 127.0.0.1.
package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// builtVaultVersion is the Vault release `make vault` builds into the cache folder.
const builtVaultVersion = "1.21.0"

// minVaultMinor is the oldest Vault 1.x on PATH the bed accepts: the AWS engine's
// role_session_name and session_token roles with mfa_serial_number need 1.16 or newer.
const minVaultMinor = 16

// Tools are the absolute paths of the programs the bed runs.
type Tools struct {
	Vault      string // Vault 1.16+ server binary
	MotoServer string // moto_server, serving IAM and STS
	AWS        string // the aws CLI, the reference AWS client
}

// Missing names one tool the bed cannot find and how to get it.
type Missing struct {
	What string
	How  string
}

// MissingError is returned by Locate when tools are missing. Its message is one line.
type MissingError struct {
	Missing []Missing
}

func (e *MissingError) Error() string {
	parts := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		parts[i] = m.What + ": " + m.How
	}
	return strings.Join(parts, "; ")
}

// cachedVaultPath is where `make vault` puts the Vault binary:
// ${XDG_CACHE_HOME:-$HOME/.cache}/vault-credential-process/vault-v<builtVaultVersion>/vault.
func cachedVaultPath() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "vault-credential-process", "vault-v"+builtVaultVersion, "vault")
}

// Locate finds the tools: Vault from $VAULT_BIN if set, else a Vault 1.16+ on PATH, else
// the one `make vault` builds (cachedVaultPath); moto_server and aws on PATH. A
// *MissingError says what is missing and how to get it.
func Locate() (Tools, error) {
	var tools Tools
	var missing []Missing

	vault, m := locateVault()
	if m != nil {
		missing = append(missing, *m)
	}
	tools.Vault = vault

	if p, err := exec.LookPath("moto_server"); err == nil {
		tools.MotoServer = p
	} else {
		missing = append(missing, Missing{
			What: "moto_server not found on PATH",
			How:  "install it with `python3 -m pip install 'moto[server]'` (a local fake of AWS IAM and STS; nothing reaches AWS)",
		})
	}
	if p, err := exec.LookPath("aws"); err == nil {
		tools.AWS = p
	} else {
		missing = append(missing, Missing{
			What: "aws CLI not found on PATH",
			How:  "install it with `python3 -m pip install awscli`",
		})
	}
	if len(missing) > 0 {
		return tools, &MissingError{Missing: missing}
	}
	return tools, nil
}

func locateVault() (string, *Missing) {
	if bin, ok := os.LookupEnv("VAULT_BIN"); ok && bin != "" {
		if err := checkExecutable(bin); err != nil {
			return "", &Missing{
				What: fmt.Sprintf("VAULT_BIN=%s is not usable (%v)", bin, err),
				How:  "point VAULT_BIN at a Vault 1.16+ binary, or unset it and run `make vault`",
			}
		}
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", &Missing{What: fmt.Sprintf("VAULT_BIN=%s: %v", bin, err), How: "use an absolute path"}
		}
		return abs, nil
	}

	var onPath string
	if p, err := exec.LookPath("vault"); err == nil {
		major, minor, err := vaultVersion(p)
		if err == nil && (major > 1 || major == 1 && minor >= minVaultMinor) {
			return p, nil
		}
		if err != nil {
			onPath = fmt.Sprintf(", %s on PATH: %v", p, err)
		} else {
			onPath = fmt.Sprintf(", %s on PATH is %d.%d (older than 1.%d)", p, major, minor, minVaultMinor)
		}
	}

	cached := cachedVaultPath()
	if cached != "" && checkExecutable(cached) == nil {
		return cached, nil
	}
	return "", &Missing{
		What: fmt.Sprintf("vault not found (VAULT_BIN unset%s, nothing at %s)", onPath, cached),
		How:  fmt.Sprintf("run `make vault` (builds Vault %s into that path) or set VAULT_BIN to a Vault 1.16+ binary", builtVaultVersion),
	}
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return errors.Unwrap(err) // the *PathError repeats the path the caller names
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if !isExecutable(fi) {
		return errors.New("not executable")
	}
	return nil
}

var vaultVersionRE = regexp.MustCompile(`Vault v(\d+)\.(\d+)\.`)

// vaultVersion runs `vault version` and returns its major and minor version.
func vaultVersion(path string) (major, minor int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version")
	cmd.Env = cleanEnv(os.Environ(), "VAULT_")
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("`vault version`: %w", err)
	}
	return parseVaultVersion(string(out))
}

func parseVaultVersion(out string) (major, minor int, err error) {
	m := vaultVersionRE.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("unexpected `vault version` output %q", strings.TrimSpace(out))
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	return major, minor, nil
}
