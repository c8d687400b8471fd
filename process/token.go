package process

import (
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api/cliconfig"
)

// findToken keeps the VAULT_TOKEN that api.NewClient read, or asks the
// token helper that Vault's own CLI would use.
func (v *Vault) findToken() error {
	if v.client.Token() != "" {
		v.TokenSource = "VAULT_TOKEN"
		v.debugf("token from VAULT_TOKEN")
		return nil
	}
	helper, err := cliconfig.DefaultTokenHelper()
	if err != nil {
		return &Error{Code: ExitUsage, Msg: "read the Vault CLI configuration: " + oneLine(err.Error()),
			Hint: "fix token_helper in ~/.vault (or the file VAULT_CONFIG_PATH names)", Err: err}
	}
	token, err := helper.Get()
	if err != nil {
		return &Error{Code: ExitFailure, Msg: fmt.Sprintf("get a Vault token from the token helper %s: %s", helper.Path(), oneLine(err.Error())),
			Hint: "run the helper by hand with `get`, or set VAULT_TOKEN", Err: err}
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return &Error{Code: ExitFailure, Msg: "no Vault token found", Err: errNoToken,
			Hint: "set VAULT_TOKEN, run `vault login` (it writes ~/.vault-token), or configure token_helper in ~/.vault"}
	}
	v.TokenSource = helper.Path()
	v.debugf("token from %s", helper.Path())
	v.client.SetToken(token)
	return nil
}
