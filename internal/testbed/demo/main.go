// Command demo is `make demo`: it starts the local test bed (a Vault dev
// server whose AWS engine talks to moto), writes a throw-away AWS profile per
// credential type that runs the helper through credential_process, runs
// `aws sts get-caller-identity` through each, and cleans up.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

func main() {
	bin := flag.String("bin", "bin/vault-credential-process", "the helper binary to demonstrate")
	flag.Parse()
	if err := run(*bin); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(bin string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%v: run `make build` first", err)
	}
	tools, err := testbed.Locate()
	var missing *testbed.MissingError
	if errors.As(err, &missing) {
		return missingTools(missing)
	}
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vcp-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Println("Starting Vault (dev mode) and moto (AWS IAM and STS) on 127.0.0.1 ...")
	bed, err := testbed.Start(ctx, tools, filepath.Join(dir, "bed"))
	if err != nil {
		return err
	}
	defer bed.Stop()
	go func() {
		<-ctx.Done()
		bed.Stop()
	}()
	fmt.Printf("Vault at %s, moto at %s\n\n", bed.VaultAddr, bed.MotoURL)

	profiles := []struct{ name, args string }{
		{"demo-iam-user", "--role " + testbed.RoleIAM + " --type iam_user"},
		{"demo-assumed-role", "--role " + testbed.RoleAssume + " --type assumed_role --ttl 30m --role-session-name demo"},
		{"demo-federation-token", "--role " + testbed.RoleFed + " --type federation_token --ttl 1h"},
		{"demo-session-token", "--role " + testbed.RoleSession + " --type session_token"},
		{"demo-static", "--role " + testbed.StaticRole + " --type static"},
	}
	lines := map[string]string{}
	for _, p := range profiles {
		lines[p.name] = bin + " " + p.args
	}
	config := filepath.Join(dir, "aws-config")
	if err := bed.WriteAWSConfig(config, lines); err != nil {
		return err
	}
	env := append(bed.AWSEnv(config), "VAULT_ADDR="+bed.VaultAddr, "VAULT_TOKEN="+bed.RootToken,
		"VAULT_CREDENTIAL_PROCESS_CACHE_DIR="+filepath.Join(dir, "cache"))

	for _, p := range profiles {
		fmt.Printf("[profile %s]\ncredential_process = vault-credential-process %s\n", p.name, p.args)
		start := time.Now()
		cmd := exec.CommandContext(ctx, "aws", "--profile", p.name, "sts", "get-caller-identity", "--output", "json")
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("aws --profile %s sts get-caller-identity: %v\n%s", p.name, err, stderr.String())
		}
		var id struct{ Arn string }
		if err := json.Unmarshal(stdout.Bytes(), &id); err != nil {
			return fmt.Errorf("aws --profile %s: %v", p.name, err)
		}
		fmt.Printf("  aws sts get-caller-identity -> %s (%s)\n\n", id.Arn, time.Since(start).Round(time.Millisecond))
	}
	fmt.Println("Every credential type reached AWS (moto) through credential_process. Cleaning up.")
	return nil
}

// missingTools says which programs the demo needs and how to get each, one
// a line, and what to run then: the demo is often the first thing run on a
// new machine.
func missingTools(e *testbed.MissingError) error {
	var b strings.Builder
	b.WriteString("the demo runs a Vault dev server and moto on 127.0.0.1 and drives them with the aws CLI; missing:")
	for _, m := range e.Missing {
		fmt.Fprintf(&b, "\n  %s: %s", m.What, m.How)
	}
	b.WriteString("\nthen run `make demo` again")
	return errors.New(b.String())
}
