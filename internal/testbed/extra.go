package testbed

import (
	"context"
	"fmt"
	"strconv"
)

// Vault is a second Vault dev server beside the bed, with nothing configured: for
// tests that change a server's state (seal it) without touching the bed's Vault.
type Vault struct {
	Addr      string // http://127.0.0.1:PORT
	RootToken string
	b         *Bed
}

// StartVault starts a bare Vault dev server on a free 127.0.0.1 port, its log in dir,
// and returns once it answers. Stop it when done.
func StartVault(ctx context.Context, tools Tools, dir string) (*Vault, error) {
	return retryBind(func() (*Vault, error) { return startVault(ctx, tools, dir) })
}

func startVault(ctx context.Context, tools Tools, dir string) (_ *Vault, err error) {
	dir, _, port, err := serverDir(dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	b := (&Bed{tools: tools}).beside("http://127.0.0.1:"+strconv.Itoa(port), dir)
	b.RootToken = "root"
	defer func() {
		if err != nil {
			_ = b.Stop()
		}
	}()
	if err := b.startDevVault("vault", port); err != nil {
		return nil, err
	}
	if err := b.waitReady(ctx, b.vault, func(ctx context.Context) error {
		return b.VaultRequest(ctx, "GET", "sys/health", nil, nil)
	}); err != nil {
		return nil, fmt.Errorf("second vault: %w", err)
	}
	return &Vault{Addr: b.VaultAddr, RootToken: b.RootToken, b: b}, nil
}

// Request is Bed.VaultRequest against this Vault, with its root token.
func (v *Vault) Request(ctx context.Context, method, path string, body, out any) error {
	return v.b.VaultRequest(ctx, method, path, body, out)
}

// Env is the environment for a Vault CLI client of this Vault with its root token.
func (v *Vault) Env() []string { return v.b.vaultEnv() }

// Stop kills the server and waits for it.
func (v *Vault) Stop() error { return v.b.Stop() }
