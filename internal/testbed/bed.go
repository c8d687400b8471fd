package testbed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Names of what Start creates. The roles live under Mount; the identities they mint
// are asserted in the repo root's TestBedServesEveryDynamicType.
const (
	Region = "us-east-1" // region of Vault's AWS engine and of the profiles WriteAWSConfig writes
	Mount  = "aws"       // mount path of the AWS secrets engine

	RoleIAM        = "iam"         // credential_type iam_user
	RoleAssume     = "assume"      // credential_type assumed_role, role_arns = the TargetRole
	RoleFed        = "fed"         // credential_type federation_token
	RoleSession    = "session"     // credential_type session_token
	RoleSessionMFA = "session-mfa" // credential_type session_token with mfa_serial_number = MFASerial
	StaticRole     = "static"      // static role rotating StaticUser's key every 2h

	vaultRootUser = "vault-root" // IAM user whose access key is Vault's aws/config/root
	TargetRole    = "vcp-target" // IAM role assumed by RoleAssume; its trust policy allows anyone
	StaticUser    = "vcp-static" // IAM user of StaticRole

	dummyAccessKey = "test" // what the bed signs moto bootstrap calls with; moto accepts any
)

const (
	startTimeout   = 2 * time.Minute  // whole start-up, unless ctx has an earlier deadline
	requestTimeout = 30 * time.Second // one call to moto or Vault from outside Start
)

// Bed is a running test bed: a Vault dev server (root token RootToken) with the AWS
// secrets engine at Mount, talking to moto_server. Stop it when done.
type Bed struct {
	VaultAddr string // http://127.0.0.1:PORT
	RootToken string // Vault's root token
	MotoURL   string // http://127.0.0.1:PORT, IAM and STS endpoint
	Dir       string // logs (vault.log, moto.log) and the audit log (audit.log)

	AccountID     string // moto's AWS account, normally 123456789012
	TargetRoleARN string // arn:aws:iam::ACCOUNT:role/vcp-target
	MFASerial     string // mfa_serial_number of RoleSessionMFA

	http     *http.Client
	tools    Tools // what Start ran, for the servers of authbed.go
	moto     *proc
	vault    *proc
	stopOnce sync.Once
	stopErr  error
}

// Start starts moto_server and a Vault dev server on free 127.0.0.1 ports, with logs in
// dir (created if needed), and configures them; see the package constants for what it
// creates. ctx bounds start-up only: the processes run until Stop. On error nothing is
// left running and the error includes the tail of the failing server's log.
func Start(ctx context.Context, tools Tools, dir string) (*Bed, error) {
	return retryBind(func() (*Bed, error) { return start(ctx, tools, dir) })
}

func start(ctx context.Context, tools Tools, dir string) (_ *Bed, err error) {
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("test bed folder: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("test bed folder: %w", err)
	}
	motoPort, vaultPort, err := pickPorts()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	b := &Bed{
		MotoURL:   "http://127.0.0.1:" + strconv.Itoa(motoPort),
		VaultAddr: "http://127.0.0.1:" + strconv.Itoa(vaultPort),
		RootToken: "root",
		tools:     tools,
		Dir:       dir,
		http:      loopbackClient(),
	}
	defer func() {
		if err != nil {
			_ = b.Stop()
		}
	}()

	if err := b.startServers(motoPort, vaultPort); err != nil {
		return nil, err
	}

	if err := b.waitReady(ctx, b.moto, func(ctx context.Context) error {
		_, err := b.iamUsers(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	accessKey, secretKey, err := b.bootstrapMoto(ctx)
	if err != nil {
		return nil, b.withTail(b.moto, fmt.Errorf("bootstrap moto: %w", err))
	}

	if err := b.waitReady(ctx, b.vault, func(ctx context.Context) error {
		return b.VaultRequest(ctx, "GET", "sys/health", nil, nil)
	}); err != nil {
		return nil, err
	}
	if err := b.configureVault(ctx, accessKey, secretKey); err != nil {
		return nil, b.withTail(b.vault, fmt.Errorf("configure vault: %w", err))
	}
	return b, nil
}

// startServers starts moto_server and the Vault dev server on their ports,
// with their logs in the bed's folder; start waits for them.
func (b *Bed) startServers(motoPort, vaultPort int) (err error) {
	// moto never sees a real key; dummy keys only keep boto from looking for others.
	motoEnv := serverEnv(
		"AWS_ACCESS_KEY_ID="+dummyAccessKey,
		"AWS_SECRET_ACCESS_KEY="+dummyAccessKey,
		"AWS_DEFAULT_REGION="+Region,
	)
	b.moto, err = startProc("moto_server", filepath.Join(b.Dir, "moto.log"), motoEnv,
		b.tools.MotoServer, "-H", "127.0.0.1", "-p", strconv.Itoa(motoPort))
	if err != nil {
		return err
	}
	return b.startDevVault("vault", vaultPort)
}

// startDevVault starts `vault server -dev` for b on 127.0.0.1:port with the
// root token b.RootToken, its log in b.Dir, and the flags extra. HOME is
// the bed's folder, and -dev-no-store-token: dev mode would otherwise
// write the root token to the developer's ~/.vault-token.
func (b *Bed) startDevVault(name string, port int, extra ...string) (err error) {
	args := append([]string{"server", "-dev", "-dev-root-token-id=" + b.RootToken,
		"-dev-listen-address=127.0.0.1:" + strconv.Itoa(port), "-dev-no-store-token"}, extra...)
	b.vault, err = startProc(name, filepath.Join(b.Dir, "vault.log"), serverEnv("HOME="+b.Dir, "VAULT_DISABLE_MLOCK=true"),
		b.tools.Vault, args...)
	return err
}

// beside is a Bed for another Vault server at addr, its files in dir, that
// shares b's tools, moto and what moto holds: the Bed methods then work on
// that server. Its root token is the caller's to set.
func (b *Bed) beside(addr, dir string) *Bed {
	return &Bed{VaultAddr: addr, MotoURL: b.MotoURL, Dir: dir, tools: b.tools, http: loopbackClient(),
		AccountID: b.AccountID, TargetRoleARN: b.TargetRoleARN, MFASerial: b.MFASerial}
}

// besideDir prepares the start of another Vault server beside b: the
// folder for its files, made absolute and created, and a free port.
func (b *Bed) besideDir(dir string) (string, int, error) {
	if b.tools.Vault == "" {
		return "", 0, errors.New("the bed was not started with a Vault binary")
	}
	dir, _, port, err := serverDir(dir)
	return dir, port, err
}

// loopbackClient is the client for the bed's servers, without a proxy:
// they are on 127.0.0.1, whatever HTTP_PROXY says.
func loopbackClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: requestTimeout}
}

// serverEnv is the environment of a server the bed starts: this process's
// without any AWS_* or VAULT_* variable, no AWS config or credentials file
// and no instance metadata (the AWS engine must only use aws/config/root),
// plus extra. (os/exec uses the last of duplicate variables, so extra wins.)
func serverEnv(extra ...string) []string {
	return append(cleanEnv(os.Environ(), "AWS_", "VAULT_"), append([]string{
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}, extra...)...)
}

// waitReady polls ready until it succeeds, p exits, or ctx ends.
func (b *Bed) waitReady(ctx context.Context, p *proc, ready func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ready(rctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return b.withTail(p, fmt.Errorf("%s exited during start-up (%v)", p.name, p.err))
		case <-ctx.Done():
			return b.withTail(p, fmt.Errorf("%s not ready: %w (last error: %v)", p.name, ctx.Err(), err))
		case <-tick.C:
		}
	}
}

func (b *Bed) withTail(p *proc, err error) error {
	return fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, p.log, p.tail())
}

// Stop kills both servers' process groups and waits for them. It is idempotent and safe
// to call concurrently, for example from a signal handler while a test is running;
// later calls wait for the first and return its result.
func (b *Bed) Stop() error {
	b.stopOnce.Do(func() {
		var errs []error
		for _, p := range []*proc{b.vault, b.moto} {
			if p != nil {
				errs = append(errs, p.kill())
			}
		}
		b.stopErr = errors.Join(errs...)
	})
	return b.stopErr
}
