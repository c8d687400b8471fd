package config

import "github.com/vault-credential-process/vault-credential-process/internal/awsconfig"

// CommandLine is awsconfig.CommandLine, where the AWS config editing now
// lives. It stays only until awsconfig_integration_test.go calls that one;
// then this file goes.
func CommandLine(goos string, words ...string) (string, *awsconfig.QuotingWarning) {
	return awsconfig.CommandLine(goos, words...)
}
