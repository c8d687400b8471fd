package main

// The AWS clients installed on many machines today, old and new, through the
// credentials server set up exactly as serve prints it.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// awsjs2Setup is the JS SDK v2 client installed for this run: tools/awsjs2 copied to a
// temporary folder, its dependency installed there with `npm ci` from the lock file.
var awsjs2Setup struct {
	once sync.Once
	dir  string
	err  error
}

// awsjs2Install returns the folder of the installed JS SDK v2 client, installing it on
// first use; without node or npm, or the registry, the tests that need it skip (fail
// with CI=true).
func awsjs2Install(t *testing.T) string {
	t.Helper()
	awsjs2Setup.once.Do(func() {
		awsjs2Setup.dir, awsjs2Setup.err = npmInstall(t, "awsjs2", "package.json", "package-lock.json", "awsjs2.js")
	})
	if awsjs2Setup.err != nil {
		unavailable(t, "AWS SDK for JavaScript v2 client: %v", awsjs2Setup.err)
	}
	return awsjs2Setup.dir
}

// npmInstall copies files of tools/name into a temporary folder of the run and runs
// `npm ci` there.
func npmInstall(t *testing.T, name string, files ...string) (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	dir := filepath.Join(filepath.Dir(binDir), name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("tools", name, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(runCtx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(os.Environ(), "AWS_", "VAULT_"), "npm_config_update_notifier=false")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %v\n%s", dir, err, bytes.TrimSpace(out))
	}
	t.Logf("npm ci of tools/%s took %s", name, time.Since(start).Round(100*time.Millisecond))
	return dir, nil
}
