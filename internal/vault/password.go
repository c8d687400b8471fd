package vault

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/tty"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// promptPassword asks for the userpass or ldap password on the terminal
// that open opens, without echo, within ctx. Never stdin: the AWS clients
// give a credential process none they type into. Without a terminal it says
// where else the password may come from.
func promptPassword(ctx context.Context, a config.Auth, open func() (*os.File, error)) (string, error) {
	f, err := open()
	if err != nil {
		return "", &process.Error{Code: process.ExitUsage, Err: err,
			Msg:  fmt.Sprintf("no password for %s: password_env and password_file are not set, and there is no terminal to ask on", a.Describe()),
			Hint: "set password_env (a variable holding the password) or password_file in the auth table, or run the helper from a terminal"}
	}
	defer f.Close()
	prompt := fmt.Sprintf("vault-credential-process: Vault password for %s (%s at auth/%s): ", process.Printable(a.Username), a.Method, process.Printable(a.Mount))
	line, err := tty.ReadPassword(ctx, f, prompt)
	pw := strings.TrimRight(line, "\r\n")
	switch {
	case ctx.Err() != nil:
		return "", &process.Error{Code: process.ExitFailure, Err: ctx.Err(), Msg: "no password entered before --timeout",
			Hint: "enter the password sooner, or raise --timeout"}
	case err != nil && pw == "":
		return "", &process.Error{Code: process.ExitFailure, Err: err, Msg: "read the password from the terminal: " + config.OneLine(err.Error()),
			Hint: "set password_env or password_file in the auth table"}
	case pw == "":
		return "", &process.Error{Code: process.ExitFailure, Msg: "no password entered", Hint: "enter the Vault password of " + a.Username}
	}
	return pw, nil
}
