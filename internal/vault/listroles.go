package vault

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/vault/api"
)

// What `aws-config --all` asks Vault: the AWS secrets engine mounts the
// token can see, and in each the roles and static roles it may list, with
// what each role issues. A refusal (403) is an answer, recorded where it
// happened so that the rest of the listing goes on; any other failure
// (Vault down, a 5xx, the deadline) ends the listing with an error, so that
// the caller never acts on half a listing it cannot tell from a whole one.

// AWSListing is what ListAWS found.
type AWSListing struct {
	// Mounts are the AWS secrets engines the token can see, by path.
	Mounts []AWSMount
}

// AWSMount is one AWS secrets engine and what the token may see of it.
type AWSMount struct {
	Path  string    // the mount path without its trailing slash: "aws", "team/aws"
	Roles []AWSRole // by name, static roles after the dynamic ones of the same name
	// Denied is what the token may not do under the mount: roles may be
	// missing from Roles when it is not empty.
	Denied []Denied
}

// Complete reports a mount whose every list and read succeeded: a role not
// in Roles is not there.
func (m *AWSMount) Complete() bool { return len(m.Denied) == 0 }

// AWSRole is one role of an AWS secrets engine.
type AWSRole struct {
	Name   string
	Static bool // a static role (<mount>/static-roles/<name>)
	// CredentialTypes are the role's credential_type, split at commas
	// (roles made before Vault 0.11 may have two); empty for a static role.
	CredentialTypes []string
	RoleARNs        []string // role_arns of an assumed_role role
	MFASerial       string   // mfa_serial_number of a session_token role
}

// Denied is one request Vault refused: the path and the policy capability
// the token lacks on it.
type Denied struct {
	Path       string // "team/aws/roles"
	Capability string // "list" or "read"
}

func (d Denied) String() string {
	return fmt.Sprintf("the token's policy lacks %q on %s", d.Capability, d.Path)
}

// uiMountsPath lists the mounts the token has any capability under, with
// their types; Vault's default policy lets every token read it.
const uiMountsPath = "sys/internal/ui/mounts"

// ListAWS lists the AWS secrets engines the token can see and their roles,
// logging in first when the settings name an auth method. Its error is an
// *Error, with a hint.
func (v *Vault) ListAWS(ctx context.Context) (*AWSListing, error) {
	if err := v.Login(ctx); err != nil {
		return nil, err
	}
	mounts, err := v.AWSMounts(ctx)
	if err != nil && v.retryLogin(ctx, err) {
		mounts, err = v.AWSMounts(ctx)
	}
	if err != nil {
		e := vaultError(err, "list the secrets engines", uiMountsPath, v.addr, ctx.Err() != nil)
		if refused(err) {
			e.Hint = "the Vault token is invalid or expired, or its policy does not allow reading " + uiMountsPath +
				" (Vault's default policy does): run `vault login` or check the token's policies"
		}
		return nil, e
	}
	l := &AWSListing{}
	for _, path := range mounts {
		m, err := v.listAWSMount(ctx, path)
		if err != nil {
			return nil, err
		}
		l.Mounts = append(l.Mounts, *m)
	}
	return l, nil
}

// AWSMounts lists the paths (without the trailing slash) of the AWS secrets
// engines the token may use, sorted: sys/internal/ui/mounts, which the
// default policy allows, shows each token only the mounts it has access to.
func (v *Vault) AWSMounts(ctx context.Context) ([]string, error) {
	secret, err := v.client.Logical().ReadWithContext(ctx, uiMountsPath)
	v.debugf("GET %s: %s", uiMountsPath, Outcome(err))
	if err != nil {
		return nil, err
	}
	if secret == nil {
		return nil, nil
	}
	engines, _ := secret.Data["secret"].(map[string]any)
	var paths []string
	for path, info := range engines {
		if m, _ := info.(map[string]any); m != nil && m["type"] == "aws" {
			paths = append(paths, strings.TrimSuffix(path, "/"))
		}
	}
	sort.Strings(paths)
	return paths, nil
}

// listAWSMount lists the dynamic and static roles of the engine at path and
// reads each dynamic one.
func (v *Vault) listAWSMount(ctx context.Context, path string) (*AWSMount, error) {
	m := &AWSMount{Path: path}
	for _, static := range []bool{false, true} {
		dir := path + "/roles"
		if static {
			dir = path + "/static-roles"
		}
		names, err := v.listKeys(ctx, dir)
		if refused(err) {
			m.Denied = append(m.Denied, Denied{Path: dir, Capability: "list"})
			continue
		}
		if err != nil {
			return nil, vaultError(err, "list the roles of "+path, dir, v.addr, ctx.Err() != nil)
		}
		for _, name := range names {
			r := AWSRole{Name: name, Static: static}
			if !static {
				found, err := v.readAWSRole(ctx, dir+"/"+name, &r)
				if refused(err) {
					m.Denied = append(m.Denied, Denied{Path: dir + "/" + name, Capability: "read"})
					continue
				}
				if err != nil {
					return nil, vaultError(err, "read the role "+name+" of "+path, dir+"/"+name, v.addr, ctx.Err() != nil)
				}
				if !found { // deleted since the list: it is not there
					continue
				}
			}
			m.Roles = append(m.Roles, r)
		}
	}
	sort.SliceStable(m.Roles, func(i, j int) bool { return m.Roles[i].Name < m.Roles[j].Name })
	return m, nil
}

// listKeys is the keys under dir; none when Vault has none (it answers 404).
func (v *Vault) listKeys(ctx context.Context, dir string) ([]string, error) {
	secret, err := v.client.Logical().ListWithContext(ctx, dir)
	v.debugf("LIST %s: %s", dir, Outcome(err))
	if err != nil || secret == nil {
		return nil, err
	}
	keys, _ := secret.Data["keys"].([]any)
	var names []string
	for _, k := range keys {
		if s, ok := k.(string); ok && s != "" && !strings.HasSuffix(s, "/") {
			names = append(names, s)
		}
	}
	return names, nil
}

// readAWSRole reads a dynamic role's definition into r; found is false when
// there is no such role.
func (v *Vault) readAWSRole(ctx context.Context, path string, r *AWSRole) (found bool, err error) {
	secret, err := v.client.Logical().ReadWithContext(ctx, path)
	v.debugf("GET %s: %s", path, Outcome(err))
	if err != nil || secret == nil {
		return false, err
	}
	if t, _ := secret.Data["credential_type"].(string); t != "" {
		for _, t := range strings.Split(t, ",") {
			r.CredentialTypes = append(r.CredentialTypes, strings.TrimSpace(t))
		}
	}
	arns, _ := secret.Data["role_arns"].([]any)
	for _, a := range arns {
		if s, ok := a.(string); ok && s != "" {
			r.RoleARNs = append(r.RoleARNs, s)
		}
	}
	r.MFASerial, _ = secret.Data["mfa_serial_number"].(string)
	return true, nil
}

// refused reports Vault's own refusal of a request (403 with Vault's JSON
// errors), not one from a proxy in front of it.
func refused(err error) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == 403 && !re.RawError
}
