package main

// Integration tests of the credential_process line that aws-config writes, read by every
// AWS client the project knows: the aws CLI and boto3 (botocore: configparser, then
// shlex), aws-sdk-go-v2 and the JS SDK v3 (their own INI parsers, then sh -c), and
// aws-sdk-go v1 (an INI lexer that treats a value starting with a double quote apart,
// then sh -c). A line that one of them reads differently fails here.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/awsconfig"
	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// lineClient is one AWS client reading the profile clientProfile of the AWS config file
// in env, and what it reports.
type lineClient struct {
	name string
	run  func(t *testing.T, b *testbed.Bed, env []string, s clientSetup) callerIdentity
}

// oneShot runs a client program once; it prints one JSON identity.
func oneShot(prog func(t *testing.T) string, args ...string) func(*testing.T, *testbed.Bed, []string, clientSetup) callerIdentity {
	return func(t *testing.T, b *testbed.Bed, env []string, s clientSetup) callerIdentity {
		t.Helper()
		ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
		defer cancel()
		a := slices.Clone(args)
		for i := range a {
			a[i] = strings.ReplaceAll(a[i], "{moto}", b.MotoURL)
		}
		cmd := exec.CommandContext(ctx, prog(t), a...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		s.registerSecrets()
		assertNoSecret(t, "stderr of "+filepath.Base(cmd.Path), stderr.String())
		if err != nil {
			t.Fatalf("%s: %v\nstderr:\n%s", filepath.Base(cmd.Path), err, stderr.String())
		}
		var id callerIdentity
		if err := json.Unmarshal(stdout.Bytes(), &id); err != nil {
			t.Fatalf("%s: decode %q: %v", filepath.Base(cmd.Path), stdout.String(), err)
		}
		return id
	}
}

// live runs one of the long-lived SDK clients of clients_integration_test.go for one
// call.
func live(name string) func(*testing.T, *testbed.Bed, []string, clientSetup) callerIdentity {
	return func(t *testing.T, b *testbed.Bed, env []string, s clientSetup) callerIdentity {
		t.Helper()
		for _, c := range sdkClients() {
			if c.name == name {
				c.prepare(t)
				lc := c.start(t, b, env)
				id := lc.call(t)
				lc.stop(t, s)
				return id
			}
		}
		t.Fatalf("no SDK client %q", name)
		return callerIdentity{}
	}
}

// lineClients are every client the line must work for. The aws CLI reports no access
// key; the others the one they signed with.
func lineClients() []lineClient {
	return []lineClient{
		{"aws CLI", oneShot(func(*testing.T) string { return "aws" },
			"--profile", clientProfile, "sts", "get-caller-identity", "--output", "json")},
		{"boto3", live("boto3")},
		{"aws-sdk-go-v2", oneShot(awsgoChecker, "-profile", clientProfile)},
		{"aws-sdk-go v1", oneShot(awsgo1Checker, "-profile", clientProfile, "-endpoint", "{moto}")},
		{"JS SDK v3", live("JS v3 fromIni")},
	}
}

// TestAWSConfigWrittenLineClients puts the binary under test and its configuration file
// in folders whose paths hold a space, lets `aws-config --write` write the profile, and
// runs every AWS client through it: each must report the assumed-role session Vault
// minted, signed with the key in the helper's cache. The line's first and last words
// both need quoting, which broke aws-sdk-go v1 (a double-quoted first word) and
// aws-sdk-go-v2 (a value that starts and ends with a quote loses both).
func TestAWSConfigWrittenLineClients(t *testing.T) {
	b := requireBed(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "my tools", exe("vault-credential-process"))
	copyFile(t, binaryUnderTest(t), bin, 0o700)
	helperConfig := filepath.Join(dir, "helper config", "config.toml")
	if err := os.MkdirAll(filepath.Dir(helperConfig), 0o700); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("[profiles.%s]\nrole = %q\ntype = \"assumed_role\"\nttl = \"1h\"\n", clientProfile, testbed.RoleAssume)
	if err := os.WriteFile(helperConfig, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	awsConfig := filepath.Join(dir, "aws", "config")
	helperEnv := append(productEnv(t, b), "VAULT_CREDENTIAL_PROCESS_CONFIG="+helperConfig)
	s := clientSetup{cacheDir: cacheDir(helperEnv)}

	// aws-config, run from the folder with the space.
	ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "aws-config", "--profile", clientProfile, "--write")
	cmd.Env = append(slices.Clone(helperEnv), "AWS_CONFIG_FILE="+awsConfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		t.Fatalf("aws-config --write: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(awsConfig)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := awsconfig.CommandLine(runtime.GOOS, bin, "--profile", clientProfile, "--config", helperConfig)
	if want := "[profile " + clientProfile + "]\ncredential_process = " + line + "\n"; string(data) != want {
		t.Fatalf("aws-config wrote\n%s\nwant\n%s", data, want)
	}
	t.Logf("written: credential_process = %s", line)
	// moto's endpoint, for the clients that read it from the profile.
	data = append(data, "region = "+testbed.Region+"\nendpoint_url = "+b.MotoURL+"\n"...)
	if err := os.WriteFile(awsConfig, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// The clients' environment does not name the helper's configuration file: the
	// --config at the end of the line must reach the helper.
	env := clientEnv(cleanEnv(helperEnv, "VAULT_CREDENTIAL_PROCESS_CONFIG="), awsConfig, "VAULT_CREDENTIAL_PROCESS_DEBUG=0")
	mints := vaultMints(t, b)
	var first callerIdentity
	for i, c := range lineClients() {
		t.Run(c.name, func(t *testing.T) {
			id := c.run(t, b, env, s)
			checkIdentity(t, b, c.name, id)
			key := s.cachedKey(t, 30*time.Minute)
			if id.AccessKeyID != "" && id.AccessKeyID != key {
				t.Errorf("%s signed with %q, want the helper's %q", c.name, id.AccessKeyID, key)
			}
			if i == 0 {
				first = id
			} else if id.Arn != first.Arn {
				t.Errorf("%s is %s, the %s was %s: not the same credentials from the helper", c.name, id.Arn, lineClients()[0].name, first.Arn)
			}
		})
	}
	if got := vaultMints(t, b) - mints; got != 1 {
		t.Errorf("%d credential requests to Vault, want 1 (the first client's; the cache served the others)", got)
	}
}

// TestAWSConfigLineHardWords writes, the way aws-config does, the line for a program
// whose path and arguments hold every character that means something to sh, shlex or
// one of the INI parsers, and has every client run it: the program (a script that
// records its arguments) must see exactly those words.
func TestAWSConfigLineHardWords(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Unix form; the Windows one is checked by the unit tests only")
	}
	b := requireBed(t)
	dir := t.TempDir()
	record := filepath.Join(dir, "argv")
	doc := filepath.Join(dir, "credentials.json")
	// moto's example key, which it answers with its default identity.
	if err := os.WriteFile(doc, []byte(`{"Version":1,"AccessKeyId":"AKIAIOSFODNN7EXAMPLE","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(dir, '\'') {
		t.Fatalf("temporary folder %q holds a single quote", dir)
	}
	prog := filepath.Join(dir, `a #b ;c ,d 'e "f $g`+"`h`"+` (i) [j] {k} \l ~m !n &o |p <q> *?r zoë 日本`, "vcp")
	if err := os.MkdirAll(filepath.Dir(prog), 0o700); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\0' \"$0\" \"$@\" > '%s'\ncat '%s'\n", record, doc)
	if err := os.WriteFile(prog, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	words := []string{prog, "#x", ";y", ",z", "a=,b", "it's", `"q"`, `\`, "", "$(id)", "tab\there", "x y ", "--role=r:s"}
	line, warning := awsconfig.CommandLine(runtime.GOOS, words...)
	if warning != nil {
		t.Fatalf("CommandLine warns: %s", warning)
	}
	awsConfig := filepath.Join(dir, "config")
	if err := b.WriteAWSConfig(awsConfig, map[string]string{clientProfile: line}); err != nil {
		t.Fatal(err)
	}
	t.Logf("credential_process = %s", line)
	env := clientEnv(cleanEnv(os.Environ(), "VAULT_"), awsConfig)
	for _, c := range lineClients() {
		t.Run(c.name, func(t *testing.T) {
			if err := os.Remove(record); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			c.run(t, b, env, clientSetup{cacheDir: dir})
			data, err := os.ReadFile(record)
			if err != nil {
				t.Fatalf("the program did not run: %v", err)
			}
			got := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
			if !slices.Equal(got, words) {
				t.Errorf("the program ran as\n%q\nwant\n%q", got, words)
			}
		})
	}
}

// TestAWSConfigWarns runs aws-config from a folder whose path holds a line break, which
// no form of the line survives: printing the section warns in one line, writing it is
// refused, and the AWS config file is not touched.
func TestAWSConfigWarns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows folder names cannot hold a line break")
	}
	b := requireBed(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "line\nbreak", "vault-credential-process")
	copyFile(t, binaryUnderTest(t), bin, 0o700)
	awsConfig := filepath.Join(dir, "aws-config")
	env := append(productEnv(t, b), "AWS_CONFIG_FILE="+awsConfig,
		"VAULT_CREDENTIAL_PROCESS_CONFIG="+writeProfile(t, "dev", testbed.RoleAssume))
	run := func(args ...string) result {
		t.Helper()
		return runProgram(t, env, runOpts{bin: bin, bound: time.Minute}, args...)
	}
	const warning = `vault-credential-process: warning: credential_process: "` // then the word, quoted

	printed := run("aws-config", "--profile", "dev")
	if printed.code != 0 || !strings.HasPrefix(printed.stdout, "[profile dev]\ncredential_process = ") {
		t.Errorf("aws-config: exit %d, stdout %q", printed.code, printed.stdout)
	}
	if lines := strings.Split(strings.TrimSuffix(printed.stderr, "\n"), "\n"); len(lines) != 1 ||
		!strings.HasPrefix(lines[0], warning) || !strings.Contains(lines[0], `line\nbreak`) || !strings.Contains(lines[0], "a line break") {
		t.Errorf("aws-config: stderr %q, want one line %q... naming the word and a line break", printed.stderr, warning)
	}

	written := run("aws-config", "--profile", "dev", "--write")
	assertFailure(t, written, 2, "error: aws-config: credential_process: ", "paths have no line break")
	if _, err := os.Stat(awsConfig); !os.IsNotExist(err) {
		t.Errorf("aws-config --write created the AWS config file (%v)", err)
	}
}

// copyFile copies src to dst, making dst's folder.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}
