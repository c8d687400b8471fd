package vault

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// vaultRoutes answers a fake Vault's requests by method and path ("LIST
// aws/roles", "GET aws/roles/dev"); an unknown request gets a 404 with
// Vault's empty error list, as Vault answers a LIST of nothing.
func vaultRoutes(routes map[string]listRoute) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if r.URL.Query().Get("list") == "true" || method == "LIST" {
			method = "LIST"
		}
		key := method + " " + strings.TrimPrefix(r.URL.Path, "/v1/")
		if a, ok := routes[key]; ok {
			reply(w, a.status, a.body)
			return
		}
		reply(w, 404, `{"errors":[]}`)
	}
}

// listRoute is a fake Vault's answer: a status and a JSON body.
type listRoute struct {
	status int
	body   string
}

const (
	uiMounts = `{"data":{"auth":{"token/":{"type":"token"}},"secret":{` +
		`"aws/":{"type":"aws"},"team/aws/":{"type":"aws"},"kv/":{"type":"kv"},"cubbyhole/":{"type":"cubbyhole"}}}}`
	permissionDenied = `{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`
)

// TestListAWS: the AWS mounts only, sorted; every role with what it
// issues; a refused list or read recorded with the capability it lacks
// while the rest goes on; a role gone between the list and the read left
// out; the static roles without a read.
func TestListAWS(t *testing.T) {
	routes := map[string]listRoute{
		"GET sys/internal/ui/mounts": {200, uiMounts},
		"LIST aws/roles":             {200, `{"data":{"keys":["multi","dev","gone","secret","legacy"]}}`},
		"GET aws/roles/dev":          {200, `{"data":{"credential_type":"iam_user","role_arns":null}}`},
		"GET aws/roles/multi": {200, `{"data":{"credential_type":"assumed_role",` +
			`"role_arns":["arn:aws:iam::123456789012:role/a","arn:aws:iam::123456789012:role/b"]}}`},
		"GET aws/roles/legacy":       {200, `{"data":{"credential_type":"iam_user,federation_token"}}`},
		"GET aws/roles/secret":       {403, permissionDenied},
		"LIST aws/static-roles":      {200, `{"data":{"keys":["dev","rot"]}}`},
		"LIST team/aws/roles":        {403, permissionDenied},
		"LIST team/aws/static-roles": {404, `{"errors":[]}`},
	}
	fv := newFakeVault(t, vaultRoutes(routes))
	v, _, log := setup(t, fv.URL, nil)
	l, err := v.ListAWS(context.Background())
	if err != nil {
		t.Fatalf("ListAWS: %v", err)
	}
	want := &AWSListing{Mounts: []AWSMount{
		{Path: "aws", Roles: []AWSRole{
			{Name: "dev", CredentialTypes: []string{"iam_user"}},
			{Name: "dev", Static: true},
			{Name: "legacy", CredentialTypes: []string{"iam_user", "federation_token"}},
			{Name: "multi", CredentialTypes: []string{"assumed_role"},
				RoleARNs: []string{"arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b"}},
			{Name: "rot", Static: true},
		}, Denied: []Denied{{Path: "aws/roles/secret", Capability: "read"}}},
		{Path: "team/aws", Denied: []Denied{{Path: "team/aws/roles", Capability: "list"}}},
	}}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("ListAWS =\n%+v\nwant\n%+v", l, want)
	}
	for _, m := range l.Mounts {
		if m.Complete() {
			t.Errorf("mount %s is complete, but the token was refused %v", m.Path, m.Denied)
		}
	}
	if got := l.Mounts[1].Denied[0].String(); got != `the token's policy lacks "list" on team/aws/roles` {
		t.Errorf("Denied.String() = %q", got)
	}
	if !strings.Contains(log.String(), "LIST team/aws/roles: status 403") {
		t.Errorf("the debug log does not show the refused list:\n%s", log)
	}
	noSecrets(t, log.String())
}

// TestListAWSFails: a failure that is not a refusal ends the whole listing
// with an error that names the path, wherever it happens, so that no caller
// takes half a listing for all of it. A proxy's 403 (not Vault's JSON) is
// not a refusal by the token's policy.
func TestListAWSFails(t *testing.T) {
	base := map[string]listRoute{
		"GET sys/internal/ui/mounts": {200, `{"data":{"secret":{"aws/":{"type":"aws"}}}}`},
		"LIST aws/roles":             {200, `{"data":{"keys":["dev"]}}`},
		"GET aws/roles/dev":          {200, `{"data":{"credential_type":"iam_user"}}`},
		"LIST aws/static-roles":      {200, `{"data":{"keys":["s"]}}`},
	}
	tests := []struct {
		name   string
		key    string
		answer listRoute
		msg    string // in the error
		hint   string // in its hint
	}{
		{"mounts refused", "GET sys/internal/ui/mounts", listRoute{403, permissionDenied},
			"list the secrets engines: Vault answered 403", "sys/internal/ui/mounts"},
		{"mounts failing", "GET sys/internal/ui/mounts", listRoute{500, `{"errors":["internal error"]}`},
			"list the secrets engines: Vault answered 500", "try again later"},
		{"roles failing", "LIST aws/roles", listRoute{503, `{"errors":["overloaded"]}`},
			"list the roles of aws: Vault answered 503", "try again later"},
		{"role failing", "GET aws/roles/dev", listRoute{500, `{"errors":["boom"]}`},
			"read the role dev of aws: Vault answered 500", "try again later"},
		{"static roles behind a proxy's 403", "LIST aws/static-roles", listRoute{403, `<html>permissionDenied</html>`},
			"not a Vault server", "VAULT_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes := map[string]listRoute{}
			for k, v := range base {
				routes[k] = v
			}
			routes[tt.key] = tt.answer
			fv := newFakeVault(t, vaultRoutes(routes))
			v, _, _ := setup(t, fv.URL, &config.Flags{config.IDRetries: "0"})
			l, err := v.ListAWS(context.Background())
			var pe *process.Error
			if l != nil || !errors.As(err, &pe) {
				t.Fatalf("ListAWS = %+v, %v; want no listing and an *Error", l, err)
			}
			if !strings.Contains(pe.Msg, tt.msg) || !strings.Contains(pe.Hint, tt.hint) {
				t.Errorf("error %q, hint %q; want %q in the error and %q in the hint", pe.Msg, pe.Hint, tt.msg, tt.hint)
			}
			noSecrets(t, errorTexts(err)...)
		})
	}
}
