package main

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestAWSConfigAllUsage: mistakes on the command line of aws-config --all are usage
// errors (exit 2, one error line and a hint), found before Vault is asked.
func TestAWSConfigAllUsage(t *testing.T) {
	for _, tt := range []struct {
		name      string
		args      []string
		msg, hint string
	}{
		{"--all with --profile", []string{"--all", "--profile", "dev"}, "--all makes every profile", "-h"},
		{"--all with --force", []string{"--all", "--write", "--force"}, "--all makes every profile", "-h"},
		{"--name without --all", []string{"--profile", "dev", "--name", "{role}"}, "--name, --region and --prune go with --all", "-h"},
		{"--prune without --all", []string{"--profile", "dev", "--prune"}, "--name, --region and --prune go with --all", "-h"},
		{"a template without the role", []string{"--all", "--name", "vault-{mount}"}, `--name: the name template "vault-{mount}" has no {role}`, "{mount} and {role}"},
		{"an unknown placeholder", []string{"--all", "--name", "{role}-{type}"}, "a placeholder other than {mount} and {role}", "{mount} and {role}"},
		{"a region with a blank", []string{"--all", "--region", "eu west"}, `--region: invalid region "eu west"`, "eu-west-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, fakeEnv(t, nil), append([]string{"aws-config"}, tt.args...)...)
			assertFailure(t, r, process.ExitUsage, tt.msg, tt.hint)
		})
	}
}

// TestRoleProfiles: the profiles of each kind of role, their names and the flags of
// their credential_process line.
func TestRoleProfiles(t *testing.T) {
	const a, b = "arn:aws:iam::111111111111:role/deploy", "arn:aws:iam::111111111111:role/path/read"
	const otherAccount = "arn:aws:iam::222222222222:role/deploy"
	type want struct{ name, flags, skip string }
	for _, tt := range []struct {
		name     string
		mount    string
		template string
		role     vault.AWSRole
		want     []want
	}{
		{"iam_user", "aws", "{mount}-{role}", vault.AWSRole{Name: "dev", CredentialTypes: []string{"iam_user"}},
			[]want{{"aws-dev", "--mount aws --role dev --type iam_user", ""}}},
		{"static, at a nested mount", "team/aws", "{mount}-{role}", vault.AWSRole{Name: "rot", Static: true},
			[]want{{"team-aws-rot", "--mount team/aws --role rot --type static", ""}}},
		{"one role_arn: no suffix, Vault picks it", "aws", "{mount}-{role}",
			vault.AWSRole{Name: "ops", CredentialTypes: []string{"assumed_role"}, RoleARNs: []string{a}},
			[]want{{"aws-ops", "--mount aws --role ops --type assumed_role", ""}}},
		{"several role_arns: one profile each, named by the IAM role", "aws", "vault {role}",
			vault.AWSRole{Name: "ops", CredentialTypes: []string{"assumed_role"}, RoleARNs: []string{a, b}},
			[]want{{"vault-ops-deploy", "--mount aws --role ops --type assumed_role --role-arn " + a, ""},
				{"vault-ops-read", "--mount aws --role ops --type assumed_role --role-arn " + b, ""}}},
		{"the same IAM role name in two accounts", "aws", "{role}",
			vault.AWSRole{Name: "ops", CredentialTypes: []string{"assumed_role"}, RoleARNs: []string{a, otherAccount}},
			[]want{{"ops-111111111111-deploy", "--mount aws --role ops --type assumed_role --role-arn " + a, ""},
				{"ops-222222222222-deploy", "--mount aws --role ops --type assumed_role --role-arn " + otherAccount, ""}}},
		{"session_token with MFA: none", "aws", "{mount}-{role}",
			vault.AWSRole{Name: "mfa", CredentialTypes: []string{"session_token"}, MFASerial: "arn:aws:iam::1:mfa/x"},
			[]want{{"aws-mfa", "--mount aws --role mfa", "aws: no profile for role mfa: it needs an MFA code"}}},
		{"a legacy role of two types: Vault picks", "aws", "{mount}-{role}",
			vault.AWSRole{Name: "old", CredentialTypes: []string{"iam_user", "federation_token"}},
			[]want{{"aws-old", "--mount aws --role old", ""}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []want
			for _, rp := range roleProfiles(tt.mount, tt.role, tt.template) {
				skip := rp.skip
				for _, w := range tt.want {
					if w.skip != "" && strings.HasPrefix(skip, w.skip) {
						skip = w.skip
					}
				}
				got = append(got, want{rp.name, strings.Join(rp.flags, " "), skip})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("roleProfiles =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestPlanAll: a listing becomes the plan: profiles in the listing's order, a warning
// per refusal naming the capability, pruning allowed only for a mount listed completely
// or no longer there, and two roles that would share a name refused before anything is
// written.
func TestPlanAll(t *testing.T) {
	getenv := fakeEnv(t, map[string]string{"VAULT_ADDR": "https://vault.example.com:8200/", "VAULT_NAMESPACE": "team"})
	c := &cli{getenv: getenv}
	s, err := config.Resolve(config.Inputs{Getenv: getenv, File: &config.File{}, RequestOptional: true})
	if err != nil {
		t.Fatal(err)
	}
	listing := &vault.AWSListing{Mounts: []vault.AWSMount{
		{Path: "aws", Roles: []vault.AWSRole{{Name: "dev", CredentialTypes: []string{"iam_user"}}}},
		{Path: "team/aws", Roles: []vault.AWSRole{{Name: "dev", Static: true}},
			Denied: []vault.Denied{{Path: "team/aws/roles", Capability: "list"}, {Path: "team/aws/roles/x", Capability: "read"}}},
	}}
	p, err := c.planAll(listing, s, &config.Flags{}, allOptions{name: "{mount}-{role}", region: "eu-west-1", prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := "vault=https://vault.example.com:8200 namespace=team"; p.plan.Scope != want {
		t.Errorf("scope %q, want %q", p.plan.Scope, want)
	}
	var names []string
	for _, pr := range p.plan.Profiles {
		names = append(names, pr.Name+" "+pr.Mount+" "+pr.Region)
		if !strings.Contains(pr.Command, " --role dev --type ") {
			t.Errorf("profile %s runs %q", pr.Name, pr.Command)
		}
	}
	if want := []string{"aws-dev aws eu-west-1", "team-aws-dev team/aws eu-west-1"}; !slices.Equal(names, want) {
		t.Errorf("profiles %q, want %q", names, want)
	}
	wantWarnings := []string{
		`team/aws: roles not listed: the token's policy lacks "list" on team/aws/roles`,
		`team/aws: role x not read: the token's policy lacks "read" on team/aws/roles/x; no profile of team/aws is removed`,
	}
	if !slices.Equal(p.warnings, wantWarnings) {
		t.Errorf("warnings\n%q\nwant\n%q", p.warnings, wantWarnings)
	}
	for mount, want := range map[string]bool{"aws": true, "team/aws": false, "gone/aws": true} {
		if got := p.plan.Prunable(mount); got != want {
			t.Errorf("Prunable(%q) = %v, want %v", mount, got, want)
		}
	}

	empty, err := c.planAll(&vault.AWSListing{}, s, &config.Flags{}, allOptions{name: "{mount}-{role}"})
	if err != nil || len(empty.plan.Profiles) != 0 || len(empty.warnings) != 1 || !strings.Contains(empty.warnings[0], "no AWS secrets engine") {
		t.Errorf("no mounts: %+v, %v; want no profile and a warning", empty, err)
	}

	_, err = c.planAll(listing, s, &config.Flags{}, allOptions{name: "{role}"})
	var ce *config.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "aws/dev and team/aws/static-roles/dev would both be profile dev") {
		t.Errorf("two roles named dev by --name {role}: %v, want a usage error naming both", err)
	}
}
