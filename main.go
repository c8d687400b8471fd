// Command vault-credential-process is an AWS credential_process helper: it
// gets AWS credentials from HashiCorp Vault's AWS secrets engine, caches
// them on disk until near expiry, and prints the credential_process JSON
// document the AWS CLI and SDKs read. Its subcommands export credentials
// into a shell, run one command with them, manage the cache, diagnose the
// set-up and write the AWS profile.
package main

import (
	"context"
	"os"
)

// version is stamped by `make build` with -ldflags "-X main.version=...".
var version = ""

// main installs no signal handler: SIGINT or SIGTERM ends the process at
// once, the OS releases its cache lock, and the cache entry stays whole (it
// is replaced by rename). A handler would cost every cache hit a goroutine
// and a thread for nothing. (`exec` handles signals itself.)
//
// Core dumps are off from the start: the process holds a Vault token and
// secret keys (`exec` gives the user's command its own limit back).
func main() {
	disableCoreDumps()
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
