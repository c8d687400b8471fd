package testbed

// A Vault server beside the bed that is not in dev mode, for the soak test
// (internal/soak): a dev server keeps everything in memory and is always
// unsealed, so it can be neither restarted with its tokens and leases intact
// nor sealed. This one has file storage and one unseal key.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ServerVault is a Vault server with file storage in its folder, initialised with
// one unseal key. It keeps its mounts, tokens and leases across Restart, and can
// be sealed and unsealed. Its AWS engine, if any, is for the caller to configure
// (against the bed's moto: see CreateIAMUser).
type ServerVault struct {
	Addr      string // http://127.0.0.1:PORT
	RootToken string
	unsealKey string
	port      int
	config    string // path of the server's HCL configuration

	mu sync.Mutex // guards v.vault, which Restart replaces
	v  *Bed       // the requests, the process and the log; the bed's moto
}

// StartServerVault starts, initialises and unseals a Vault server on a free
// 127.0.0.1 port with its storage, configuration, log and audit log in dir,
// which must not hold an earlier server's storage. Stop it when done.
func (b *Bed) StartServerVault(ctx context.Context, dir string) (*ServerVault, error) {
	return retryBind(func() (*ServerVault, error) { return b.startServerVault(ctx, dir) })
}

func (b *Bed) startServerVault(ctx context.Context, dir string) (_ *ServerVault, err error) {
	dir, port, err := b.besideDir(dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	sv := &ServerVault{Addr: "http://127.0.0.1:" + strconv.Itoa(port), port: port,
		config: filepath.Join(dir, "vault.hcl")}
	sv.v = b.beside(sv.Addr, dir)
	defer func() {
		if err != nil {
			_ = sv.Stop()
		}
	}()
	config := fmt.Sprintf(`storage "file" {
  path = %q
}
listener "tcp" {
  address     = "127.0.0.1:%d"
  tls_disable = true
}
api_addr      = %q
disable_mlock = true
ui            = false
`, filepath.Join(dir, "data"), port, sv.Addr)
	if err := os.WriteFile(sv.config, []byte(config), 0o600); err != nil {
		return nil, fmt.Errorf("server vault configuration: %w", err)
	}
	if err := sv.start(ctx); err != nil {
		return nil, err
	}
	var init struct {
		Keys      []string `json:"keys"`
		RootToken string   `json:"root_token"`
	}
	if err := sv.v.VaultRequest(ctx, "PUT", "sys/init", map[string]any{"secret_shares": 1, "secret_threshold": 1}, &init); err != nil {
		return nil, sv.withTail(fmt.Errorf("initialise the server vault: %w", err))
	}
	if len(init.Keys) != 1 || init.RootToken == "" {
		return nil, errors.New("initialise the server vault: no unseal key or root token in the answer")
	}
	sv.unsealKey, sv.RootToken, sv.v.RootToken = init.Keys[0], init.RootToken, init.RootToken
	if err := sv.Unseal(ctx); err != nil {
		return nil, err
	}
	// First, so that every later request is in the log too.
	if err := sv.Request(ctx, "PUT", "sys/audit/file", map[string]any{"type": "file",
		"options": map[string]string{"file_path": sv.v.auditPath(), "log_raw": "false"}}, nil); err != nil {
		return nil, sv.withTail(err)
	}
	return sv, nil
}

// start starts the server process and waits until it answers (sealed or not).
func (sv *ServerVault) start(ctx context.Context) error {
	env := serverEnv("HOME="+sv.v.Dir, "VAULT_DISABLE_MLOCK=true")
	p, err := startProc("vault (server)", filepath.Join(sv.v.Dir, "vault.log"), env, sv.v.tools.Vault, "server", "-config="+sv.config)
	if err != nil {
		return err
	}
	sv.mu.Lock()
	sv.v.vault = p
	sv.mu.Unlock()
	// sys/seal-status answers 200 whether sealed or not, without a token.
	return sv.v.waitReady(ctx, p, func(ctx context.Context) error {
		return sv.v.VaultRequest(ctx, "GET", "sys/seal-status", nil, nil)
	})
}

func (sv *ServerVault) proc() *proc {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.v.vault
}

func (sv *ServerVault) withTail(err error) error { return sv.v.withTail(sv.proc(), err) }

// Request is Bed.VaultRequest against this Vault, with its root token.
func (sv *ServerVault) Request(ctx context.Context, method, path string, body, out any) error {
	return sv.v.VaultRequest(ctx, method, path, body, out)
}

// PID is the process id of the running server, for a caller that stops and
// continues it (SIGSTOP, SIGCONT) to play a hung Vault.
func (sv *ServerVault) PID() int { return sv.proc().cmd.Process.Pid }

// Seal seals the server (sys/seal): it then answers 503 until Unseal.
func (sv *ServerVault) Seal(ctx context.Context) error {
	return sv.Request(ctx, "PUT", "sys/seal", nil, nil)
}

// Unseal unseals the server and waits until it serves requests again.
func (sv *ServerVault) Unseal(ctx context.Context) error {
	if err := sv.Request(ctx, "PUT", "sys/unseal", map[string]any{"key": sv.unsealKey}, nil); err != nil {
		return sv.withTail(fmt.Errorf("unseal the server vault: %w", err))
	}
	// sys/health answers 200 only once the server is unsealed and active.
	return sv.v.waitReady(ctx, sv.proc(), func(ctx context.Context) error {
		return sv.v.VaultRequest(ctx, "GET", "sys/health", nil, nil)
	})
}

// Restart stops the server as an operator would (SIGTERM, SIGKILL after 15
// seconds), leaves it down for down, starts it again on the same port and
// unseals it. It returns when the server serves requests again.
func (sv *ServerVault) Restart(ctx context.Context, down time.Duration) error {
	if err := sv.proc().terminate(15 * time.Second); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	if err := sv.start(ctx); err != nil {
		return fmt.Errorf("restart the server vault: %w", err)
	}
	return sv.Unseal(ctx)
}

// Stop kills the server and waits for it.
func (sv *ServerVault) Stop() error {
	if p := sv.proc(); p != nil {
		return p.kill()
	}
	return nil
}

// terminate sends SIGTERM (on Windows, where Signal fails, kills at once) and waits up to grace
// for the process to exit, then kills its group.
func (p *proc) terminate(grace time.Duration) error {
	if !p.exited() {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return p.kill()
		}
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		return p.kill()
	}
}

// CreateIAMUser creates an IAM user in moto with one access key, and returns
// the key: for the root credentials of another Vault's AWS engine, or the user
// of a static role.
func (b *Bed) CreateIAMUser(ctx context.Context, name string) (accessKey, secretKey string, err error) {
	if err := b.motoCall(ctx, "iam", "CreateUser", url.Values{"UserName": {name}}, nil); err != nil {
		return "", "", err
	}
	var key struct {
		AccessKeyID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		SecretAccessKey string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := b.motoCall(ctx, "iam", "CreateAccessKey", url.Values{"UserName": {name}}, &key); err != nil {
		return "", "", err
	}
	return key.AccessKeyID, key.SecretAccessKey, nil
}

// KeyIdentity is the ARN moto's STS GetCallerIdentity reports for a request
// signed with accessKey: the IAM user or assumed role the key belongs to, or
// UnknownKeyARN when moto does not know the key, because it was deleted (as
// Vault does when it revokes an iam_user lease) or is one of the fixed example
// keys moto gives federation and session tokens.
func (b *Bed) KeyIdentity(ctx context.Context, accessKey string) (string, error) {
	var out struct {
		Arn string `xml:"GetCallerIdentityResult>Arn"`
	}
	if err := b.motoCallAs(ctx, accessKey, "sts", "GetCallerIdentity", nil, &out); err != nil {
		return "", err
	}
	if out.Arn == "" {
		return "", errors.New("moto sts GetCallerIdentity: no Arn in the answer")
	}
	return out.Arn, nil
}

// UnknownKeyARN is the identity moto reports for a key it does not know.
func (b *Bed) UnknownKeyARN() string {
	return "arn:aws:sts::" + b.AccountID + ":user/moto"
}
