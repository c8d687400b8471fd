package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDemoWithoutMoto: `make demo` on a machine without moto_server (nor the
// aws CLI) stops before starting anything and says what to install and how,
// then what to run.
func TestDemoWithoutMoto(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "vault-credential-process")
	vault := filepath.Join(dir, "vault")
	for _, p := range []string{bin, vault} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv("VAULT_BIN", vault)
	err := run(bin)
	want := "the demo runs a Vault dev server and moto on 127.0.0.1 and drives them with the aws CLI; missing:\n" +
		"  moto_server not found on PATH: install it with `python3 -m pip install 'moto[server]'` (a local fake of AWS IAM and STS; nothing reaches AWS)\n" +
		"  aws CLI not found on PATH: install it with `python3 -m pip install awscli`\n" +
		"then run `make demo` again"
	if err == nil || err.Error() != want {
		t.Errorf("run: %v\nwant:\n%s", err, want)
	}
}
