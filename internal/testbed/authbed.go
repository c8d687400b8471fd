package testbed

// Servers the auth tests start beside the bed, and stop themselves: a second Vault dev
// server listening with TLS (cert auth needs a TLS listener), and a Vault Proxy in
// front of the bed's Vault. The bed itself stays as it is.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// TLSVault is a Vault dev server with a TLS listener (-dev-tls) whose AWS engine
// talks to the bed's moto: its Bed methods (VaultRequest, AuditCount) work on it,
// and Stop stops this Vault only.
type TLSVault struct {
	*Bed
	CACert string // PEM file of the CA that signed Vault's server certificate
}

// StartTLSVault starts a second Vault dev server on a free 127.0.0.1 port with
// -dev-tls, its files (certificates, logs, audit log) in dir, and configures the AWS
// engine at Mount against the bed's moto with the roles RoleAssume and RoleIAM.
// Vault's own IAM user for it is a new one, so the bed's keys stay untouched.
func (b *Bed) StartTLSVault(ctx context.Context, dir string) (*TLSVault, error) {
	return retryBind(func() (*TLSVault, error) { return b.startTLSVault(ctx, dir) })
}

func (b *Bed) startTLSVault(ctx context.Context, dir string) (_ *TLSVault, err error) {
	dir, port, err := b.besideDir(dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	v := &TLSVault{Bed: b.beside("https://127.0.0.1:"+strconv.Itoa(port), dir), CACert: filepath.Join(dir, "vault-ca.pem")}
	v.RootToken = "root"
	defer func() {
		if err != nil {
			_ = v.Stop()
		}
	}()
	if err := v.startDevVault("vault (TLS)", port, "-dev-tls", "-dev-tls-cert-dir="+dir); err != nil {
		return nil, err
	}
	// The CA file appears when the server has generated it: until then, no client.
	trusted := false
	if err := v.waitReady(ctx, v.vault, func(ctx context.Context) error {
		if !trusted {
			pem, err := os.ReadFile(v.CACert)
			if err != nil {
				return err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("no certificate in %s yet", v.CACert)
			}
			v.http = &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
				Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: pool}}}
			trusted = true
		}
		return v.VaultRequest(ctx, "GET", "sys/health", nil, nil)
	}); err != nil {
		return nil, err
	}

	if err := b.configureTLSVault(ctx, v, "vault-root-tls-"+strconv.Itoa(port)); err != nil {
		return nil, err
	}
	return v, nil
}

// configureTLSVault gives the TLS Vault its own IAM user in moto (user), an
// audit log and the AWS engine with the roles RoleAssume and RoleIAM.
func (b *Bed) configureTLSVault(ctx context.Context, v *TLSVault, user string) error {
	if err := b.motoCall(ctx, "iam", "CreateUser", url.Values{"UserName": {user}}, nil); err != nil {
		return err
	}
	var key struct {
		AccessKeyID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		SecretAccessKey string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := b.motoCall(ctx, "iam", "CreateAccessKey", url.Values{"UserName": {user}}, &key); err != nil {
		return err
	}
	steps := []struct {
		method, path string
		body         any
	}{
		{"PUT", "sys/audit/file", map[string]any{"type": "file",
			"options": map[string]string{"file_path": v.auditPath(), "log_raw": "false"}}},
		{"POST", "sys/mounts/" + Mount, map[string]any{"type": "aws"}},
		{"POST", Mount + "/config/root", map[string]any{"access_key": key.AccessKeyID, "secret_key": key.SecretAccessKey,
			"region": Region, "iam_endpoint": b.MotoURL, "sts_endpoint": b.MotoURL}},
		{"POST", Mount + "/config/lease", map[string]any{"lease": "1h", "lease_max": "24h"}},
		{"POST", Mount + "/roles/" + RoleAssume, map[string]any{"credential_type": "assumed_role",
			"role_arns": []string{b.TargetRoleARN}}},
		{"POST", Mount + "/roles/" + RoleIAM, map[string]any{"credential_type": "iam_user", "policy_document": rolePolicy}},
	}
	for _, s := range steps {
		if err := v.VaultRequest(ctx, s.method, s.path, s.body, nil); err != nil {
			return v.withTail(v.vault, fmt.Errorf("configure the TLS vault: %w", err))
		}
	}
	return nil
}

// Proxy is a running `vault proxy` in front of the bed's Vault.
type Proxy struct {
	Addr string // http://127.0.0.1:PORT
	p    *proc
}

// StartProxy starts `vault proxy` on a free 127.0.0.1 port, forwarding to the bed's
// Vault, with use_auto_auth_token = true and autoAuth as the body of its auto_auth
// stanza (a `method` block). Its configuration and log go to dir. It returns once the
// proxy answers with an auto-auth token: a request without a token gets through.
func (b *Bed) StartProxy(ctx context.Context, dir, autoAuth string) (*Proxy, error) {
	return retryBind(func() (*Proxy, error) { return b.startProxy(ctx, dir, autoAuth) })
}

func (b *Bed) startProxy(ctx context.Context, dir, autoAuth string) (_ *Proxy, err error) {
	if b.tools.Vault == "" {
		return nil, errors.New("the bed was not started with a Vault binary")
	}
	dir, port, _, err := serverDir(dir)
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: "http://127.0.0.1:" + strconv.Itoa(port)}
	config := fmt.Sprintf(`pid_file = %q
vault {
  address = %q
}
auto_auth {
%s
}
api_proxy {
  use_auto_auth_token = true
}
listener "tcp" {
  address     = "127.0.0.1:%d"
  tls_disable = true
}
`, filepath.Join(dir, "proxy.pid"), b.VaultAddr, autoAuth, port)
	path := filepath.Join(dir, "proxy.hcl")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		return nil, err
	}
	env := append(cleanEnv(os.Environ(), "AWS_", "VAULT_"), "HOME="+dir)
	if p.p, err = startProc("vault proxy", filepath.Join(dir, "proxy.log"), env, b.tools.Vault, "proxy", "-config="+path); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = p.Stop()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	if err := b.waitReady(ctx, p.p, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, "GET", p.Addr+"/v1/auth/token/lookup-self", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("lookup-self through the proxy: status %d", resp.StatusCode)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// Stop kills the proxy and waits for it.
func (p *Proxy) Stop() error { return p.p.kill() }

// Log is the tail of the proxy's log, for failure messages.
func (p *Proxy) Log() string { return p.p.tail() }
