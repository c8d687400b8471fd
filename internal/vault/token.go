package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/vault/api/cliconfig"
	"github.com/hashicorp/vault/api/tokenhelper"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/child"
	"github.com/vault-credential-process/vault-credential-process/internal/smallfile"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// findToken keeps the VAULT_TOKEN that api.NewClient read, or asks the
// token helper that Vault's own CLI would use, within ctx: the run's
// context, so that a helper that hangs cannot take the run past --timeout.
func (v *Vault) findToken(ctx context.Context) error {
	if v.client.Token() != "" {
		v.TokenSource = "VAULT_TOKEN"
		v.debugf("token from VAULT_TOKEN")
		return nil
	}
	if err := checkCLIConfig(v.o.Getenv); err != nil {
		return err
	}
	helper, err := cliconfig.DefaultTokenHelper()
	if err != nil {
		return &process.Error{Code: process.ExitUsage, Msg: "read the Vault CLI configuration: " + config.OneLine(err.Error()),
			Hint: "fix token_helper in ~/.vault (or the file VAULT_CONFIG_PATH names)", Err: err}
	}
	token, err := v.getToken(ctx, helper)
	var e *process.Error
	if errors.As(err, &e) {
		return e
	}
	if err != nil {
		return &process.Error{Code: process.ExitFailure, Msg: fmt.Sprintf("get a Vault token from the token helper %s: %s", helper.Path(), config.OneLine(err.Error())),
			Hint: "run the helper by hand with `get`, or set VAULT_TOKEN", Err: err}
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return &process.Error{Code: process.ExitFailure, Msg: "no Vault token found", Err: errNoToken,
			Hint: "set VAULT_TOKEN, run `vault login` (it writes ~/.vault-token), or configure token_helper in ~/.vault"}
	}
	v.TokenSource = helper.Path()
	v.debugf("token from %s", helper.Path())
	v.client.SetToken(token)
	return nil
}

// getToken asks helper for the token. An external helper is run here, the
// way ExternalTokenHelper.Get runs it (the binary itself, no shell, with
// the helper's Args and then "get"), but bounded by ctx: Get has no context
// and would wait for a hung helper for ever.
func (v *Vault) getToken(ctx context.Context, helper tokenhelper.TokenHelper) (string, error) {
	switch h := helper.(type) {
	case *tokenhelper.ExternalTokenHelper:
		var stdout, stderr bytes.Buffer
		c := &child.Cmd{What: "token helper " + h.Path(), Timeout: v.client.ClientTimeout(),
			Env: h.Env, Stdout: &stdout, Stderr: &stderr,
			Hint: fmt.Sprintf("run `%s get` by hand to see why it hangs, set VAULT_TOKEN, or raise --timeout", h.Path())}
		// Get doubles backslashes in the path; so do we, to run the same file.
		err := process.ChildError(c.Run(ctx, strings.ReplaceAll(h.BinaryPath, `\`, `\\`), append(slices.Clone(h.Args), "get")...))
		if err != nil {
			var e *process.Error
			if errors.As(err, &e) {
				return "", e
			}
			return "", fmt.Errorf("%q: %w", stderr.String(), err)
		}
		return stdout.String(), nil
	case *tokenhelper.InternalTokenHelper:
		if err := checkTokenFile(); err != nil {
			return "", err
		}
	}
	return helper.Get()
}

// checkTokenFile refuses a ~/.vault-token that is not a regular file (a
// FIFO would block the built-in helper's read past --timeout). A missing
// file is fine: the helper then has no token.
func checkTokenFile() error {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil // the helper finds no home either, and says so
	}
	path := filepath.Join(home, ".vault-token")
	if err := checkRegular(path); err != nil {
		return &process.Error{Code: process.ExitFailure, Msg: "read the Vault token file: " + err.Error(),
			Hint: "remove it and run `vault login`, or set VAULT_TOKEN", Err: err}
	}
	return nil
}

// checkCLIConfig refuses a Vault CLI configuration file (~/.vault, or the
// one VAULT_CONFIG_PATH names) that is not a regular file, before cliconfig
// reads it: a FIFO there would block the read past --timeout.
func checkCLIConfig(getenv func(string) string) error {
	path := getenv("VAULT_CONFIG_PATH")
	if path == "" {
		path = "~/.vault"
	}
	if rest, ok := strings.CutPrefix(path, "~"); ok && (rest == "" || os.IsPathSeparator(rest[0])) {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil // cliconfig expands it, or says why not
		}
		path = home + rest
	}
	if err := checkRegular(path); err != nil {
		return &process.Error{Code: process.ExitUsage, Msg: "read the Vault CLI configuration: " + err.Error(),
			Hint: "make it a file holding token_helper, or remove it (the file VAULT_CONFIG_PATH names, else ~/.vault)", Err: err}
	}
	return nil
}

// checkRegular refuses path when it is there and not a regular file (a
// symlink is followed: these files are the user's to arrange). Any other
// trouble is left to the reader, which reports it as it always has.
func checkRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is %s, not a regular file", path, smallfile.FileKind(fi.Mode()))
	}
	return nil
}
