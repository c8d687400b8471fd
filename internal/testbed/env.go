package testbed

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
)

// cleanEnv returns environ without the variables whose names start with any of prefixes,
// so that a developer's own AWS or Vault settings never reach the bed or its clients.
func cleanEnv(environ []string, prefixes ...string) []string {
	out := make([]string, 0, len(environ))
next:
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// AWSEnv is the environment for an AWS client (the aws CLI, an SDK) that reads its
// profiles from configPath: os.Environ() without any AWS_* or VAULT_* variable, plus
// AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE=/dev/null, AWS_EC2_METADATA_DISABLED=true
// and NO_PROXY for 127.0.0.1 (Python clients would send even loopback traffic through
// an HTTP_PROXY). A test that runs the product through credential_process appends
// VAULT_ADDR and what else it needs.
func (b *Bed) AWSEnv(configPath string) []string {
	return append(cleanEnv(os.Environ(), "AWS_", "VAULT_"),
		"AWS_CONFIG_FILE="+configPath,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"NO_PROXY=127.0.0.1,localhost",
		"no_proxy=127.0.0.1,localhost",
	)
}

// vaultEnv is the environment for a Vault client using the bed's root token:
// os.Environ() without any AWS_* or VAULT_* variable, plus VAULT_ADDR and VAULT_TOKEN.
func (b *Bed) vaultEnv() []string {
	return append(cleanEnv(os.Environ(), "AWS_", "VAULT_"),
		"VAULT_ADDR="+b.VaultAddr,
		"VAULT_TOKEN="+b.RootToken,
	)
}

// WriteAWSConfig writes an AWS shared config file at path (mode 0600) with one profile
// per entry of profiles (profile name -> credential_process command line), each with
// region us-east-1 and endpoint_url pointing at moto. The profile "default" is written
// as [default].
func (b *Bed) WriteAWSConfig(path string, profiles map[string]string) error {
	if err := os.WriteFile(path, awsConfig(b.MotoURL, profiles), 0o600); err != nil {
		return fmt.Errorf("write AWS config: %w", err)
	}
	return nil
}

func awsConfig(endpoint string, profiles map[string]string) []byte {
	names := make([]string, 0, len(profiles))
	for name := range profiles {
		names = append(names, name)
	}
	sort.Strings(names)

	var buf bytes.Buffer
	for i, name := range names {
		if i > 0 {
			buf.WriteByte('\n')
		}
		if name == "default" {
			buf.WriteString("[default]\n")
		} else {
			fmt.Fprintf(&buf, "[profile %s]\n", name)
		}
		fmt.Fprintf(&buf, "credential_process = %s\n", profiles[name])
		fmt.Fprintf(&buf, "region = %s\n", Region)
		fmt.Fprintf(&buf, "endpoint_url = %s\n", endpoint)
	}
	return buf.Bytes()
}
