package vault

// The wording review of issue 21: errors say what failed in the user's words, never
// the decoder's or the network stack's ("EOF", Go type names, "dial tcp: lookup").

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestVaultErrorWording: the exact line and hint of each failure whose cause Go words
// for developers.
func TestVaultErrorWording(t *testing.T) {
	const addr = "http://127.0.0.1:8200"
	const what = "get credentials from aws/creds/dev"
	var typeErr error
	if err := json.Unmarshal([]byte(`{"lease_duration":"3600"}`), new(api.Secret)); err != nil {
		typeErr = fmt.Errorf("decode the answer: %w", err)
	} else {
		t.Fatal("a string lease_duration decoded")
	}
	dns := func(e *net.DNSError) error {
		return &url.Error{Op: "Put", URL: addr, Err: &net.OpError{Op: "dial", Net: "tcp", Err: e}}
	}
	const closedHint = "check that VAULT_ADDR is your Vault (https or http as it listens) and that nothing between drops the request; " +
		"try again, or raise --retries"
	const cutHint = "something between you and Vault (a proxy, a load balancer) may have changed or cut the answer: check VAULT_ADDR, or run with --debug"
	for _, tt := range []struct {
		name      string
		err       error
		msg, hint string
	}{
		{"closed before any answer", &url.Error{Op: "Put", URL: addr + "/v1/aws/creds/dev", Err: io.EOF},
			"Vault at " + addr + " closed the connection without answering", closedHint},
		{"reset", &url.Error{Op: "Put", URL: addr, Err: &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}},
			"Vault at " + addr + " closed the connection without answering", closedHint},
		{"cut short", fmt.Errorf("decode: %w", io.ErrUnexpectedEOF), "the answer from Vault at " + addr + " was cut short", cutHint},
		{"wrong type", typeErr, "the answer from Vault at " + addr + " is not what Vault sends: lease_duration is a string, not a number", cutHint},
		{"host not found", dns(&net.DNSError{Err: "no such host", Name: "vault.invalid", Server: "10.0.0.53:53", IsNotFound: true}),
			"Vault's host name vault.invalid was not found (DNS)", "check the host name in VAULT_ADDR"},
		{"DNS failure", dns(&net.DNSError{Err: "server misbehaving", Name: "vault.example", Server: "10.0.0.53:53"}),
			"the DNS look-up of Vault's host name vault.example failed: server misbehaving", "check the host name in VAULT_ADDR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := vaultError(tt.err, what, "aws/creds/dev", addr, false)
			if e.Msg != what+": "+tt.msg || e.Hint != tt.hint {
				t.Errorf("error %q\nhint %q\nwant %q\nhint %q", e.Msg, e.Hint, what+": "+tt.msg, tt.hint)
			}
			if !errors.Is(e, tt.err) {
				t.Errorf("the error does not wrap its cause")
			}
		})
	}
}

// TestEnvErrorWording: a VAULT_* variable vault/api cannot use is named in the hint;
// its capitalised "Error loading CA File" is worded as the other errors are.
func TestEnvErrorWording(t *testing.T) {
	const prefix = "read Vault settings from the environment: "
	for _, tt := range []struct {
		name      string
		env       map[string]string
		msg, hint string
	}{
		{"CA file", map[string]string{"VAULT_CACERT": "/nonexistent/ca.pem"},
			"cannot load the CA certificate that VAULT_CACERT names: open /nonexistent/ca.pem: no such file or directory",
			"set VAULT_CACERT to a readable PEM file of the CA that signed Vault's certificate, or unset it"},
		{"client timeout", map[string]string{"VAULT_CLIENT_TIMEOUT": "soon"}, `could not parse "VAULT_CLIENT_TIMEOUT"`,
			"fix or unset VAULT_CLIENT_TIMEOUT"},
		{"skip verify", map[string]string{"VAULT_SKIP_VERIFY": "perhaps"}, "could not parse VAULT_SKIP_VERIFY", "fix or unset VAULT_SKIP_VERIFY"},
		{"client certificate", map[string]string{"VAULT_CLIENT_CERT": "/nonexistent/c.pem", "VAULT_CLIENT_KEY": "/nonexistent/k.pem"},
			"open /nonexistent/c.pem: no such file or directory",
			"set VAULT_CLIENT_CERT to a readable PEM file (VAULT_CLIENT_CERT the certificate, VAULT_CLIENT_KEY its key), or unset both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []string{"VAULT_CACERT", "VAULT_CAPATH", "VAULT_CLIENT_TIMEOUT", "VAULT_SKIP_VERIFY", "VAULT_CLIENT_CERT", "VAULT_CLIENT_KEY"} {
				t.Setenv(v, "")
				os.Unsetenv(v)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg := api.DefaultConfig()
			if cfg.Error == nil {
				t.Fatal("vault/api took the variables")
			}
			e := envError(cfg.Error, os.Getenv)
			if e.Msg != prefix+tt.msg || e.Hint != tt.hint || e.Code != process.ExitUsage {
				t.Errorf("error %q\nhint %q (exit %d)\nwant %q\nhint %q", e.Msg, e.Hint, e.Code, prefix+tt.msg, tt.hint)
			}
		})
	}
}
