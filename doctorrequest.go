package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/vault"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// doctor's checks of the request itself, asked with the user's own token:
// is the mount an AWS secrets engine, does the role exist and issue the
// type asked for, may the token make the request, and (--fetch) does the
// request really give credentials.

// request emits the mount, role and policy checks; with no usable token
// (or no Vault: unusable says why) they are reported as not checked, not
// failed again.
func (d *doctorRun) request(ctx context.Context, s *config.Settings, v *vault.Vault, unusable string) {
	names := []string{"vault mount", "vault role", "vault policy"}
	if unusable != "" {
		for _, n := range names {
			d.emit(Check{Name: n, Skipped: true, Detail: "not checked: " + unusable})
		}
		return
	}
	at := "Vault at " + s.DisplayAddress() + " to answer "
	mount := d.step(ctx, s.Timeout, "vault mount", at+"sys/internal/ui/mounts/"+s.Mount, func(ctx context.Context) Check {
		return d.mount(ctx, v, s)
	})
	d.emit(mount)
	if mount.Failed() {
		// No usable AWS engine there: no role to look for, and a policy
		// for that path would not help.
		for _, n := range names[1:] {
			d.emit(Check{Name: n, Skipped: true, Detail: "not checked: the mount check failed"})
		}
		return
	}
	rolePath := vault.RolePath(s.Mount, s.Role, s.Type == config.TypeStatic)
	d.emit(d.step(ctx, s.Timeout, "vault role", at+rolePath, func(ctx context.Context) Check {
		return d.role(ctx, v, s)
	}))
	credsPath, _ := process.CredentialsPath(s)
	d.emit(d.step(ctx, s.Timeout, "vault policy", at+"sys/capabilities-self for "+credsPath, func(ctx context.Context) Check {
		return d.capabilities(ctx, v, s)
	}))
}

// mountListHint says where to find the right mount.
const mountListHint = "check --mount (or mount in the profile): `vault secrets list` shows the mounts; the AWS secrets engine's type is aws"

// denied reports a 403 answer: the token may not read the path.
func denied(err error) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == 403
}

// mount checks that --mount names an AWS secrets engine the token may use.
func (d *doctorRun) mount(ctx context.Context, v *vault.Vault, s *config.Settings) Check {
	c := Check{Name: "vault mount"}
	path := "sys/internal/ui/mounts/" + s.Mount
	m, err := v.Mount(ctx, s.Mount)
	var re *api.ResponseError
	switch {
	case errors.As(err, &re) && re.StatusCode == 403 && strings.Contains(strings.Join(re.Errors, " "), "preflight capability check"):
		// Vault's answer for a path where nothing is mounted, and for a
		// mount the token may use nothing of.
		return d.noMount(ctx, v, s)
	case denied(err):
		// A token without Vault's default policy.
		c.OK, c.Skipped = false, true
		c.Detail = "not checked: the token may not read " + path
	case err != nil:
		ve := vault.Explain(err, "ask Vault about the mount "+s.Mount, path, v.Address(), ctx.Err() != nil)
		c.Detail, c.Hint = ve.Msg, ve.Hint
	case m == nil:
		c.Detail, c.Hint = fmt.Sprintf("Vault said nothing about the mount %s/", s.Mount), mountListHint
	case m.Path != s.Mount+"/":
		c.Detail = fmt.Sprintf("%s is inside the %s engine mounted at %s, not a mount itself", s.Mount, m.Type, m.Path)
		c.Hint = "use --mount " + strings.TrimSuffix(m.Path, "/") + " (the path the engine is mounted at)"
	case m.Type != "aws":
		c.Detail = fmt.Sprintf("%s/ is a %s secrets engine, not an AWS one", s.Mount, m.Type)
		c.Hint = mountListHint
	default:
		c.OK, c.Detail = true, s.Mount+"/ is an AWS secrets engine"
	}
	return c
}

// noMount tells the two meanings of Vault's refusal to describe the mount
// apart: when the token may use another AWS engine, --mount is wrong; when
// it may use none, its policy is what is missing (the policy check says
// so), and whether the mount exists cannot be known.
func (d *doctorRun) noMount(ctx context.Context, v *vault.Vault, s *config.Settings) Check {
	c := Check{Name: "vault mount"}
	mounts, err := v.AWSMounts(ctx)
	if err != nil || len(mounts) == 0 {
		d.mountUnsure = true
		c.Skipped = true
		c.Detail = fmt.Sprintf("not checked: the token may use no AWS secrets engine, at %s/ or elsewhere", s.Mount)
		return c
	}
	c.Detail = fmt.Sprintf("no secrets engine at %s/ that the token may use; it may use the AWS engine at %s/", s.Mount, strings.Join(mounts, "/, "))
	if len(mounts) == 1 {
		c.Hint = fmt.Sprintf("use --mount %s (or mount = %q in the profile)", mounts[0], mounts[0])
	} else {
		c.Hint = "use --mount (or mount in the profile) with one of: " + strings.Join(mounts, ", ")
	}
	return c
}

// role checks that the role exists, as the type asks (dynamic or static),
// and issues that type. A token that may not read the role's definition
// (most users' policies allow only the credentials path) gets "not
// checked", never a ✓.
func (d *doctorRun) role(ctx context.Context, v *vault.Vault, s *config.Settings) Check {
	c := Check{Name: "vault role"}
	static := s.Type == config.TypeStatic
	path := vault.RolePath(s.Mount, s.Role, static)
	data, err := v.Role(ctx, s.Mount, s.Role, static)
	switch {
	case denied(err):
		c.Skipped = true
		c.Detail = "not checked: the token may not read " + path + " (--fetch tries the request itself)"
		return c
	case err != nil:
		ve := vault.Explain(err, "read the role "+path, path, v.Address(), ctx.Err() != nil)
		c.Detail, c.Hint = ve.Msg, ve.Hint
		return c
	case data == nil:
		return d.noRole(ctx, v, s)
	case static:
		c.OK, c.Detail = true, fmt.Sprintf("static role %s exists (%s)", s.Role, path)
		d.roleType = config.TypeStatic
		return c
	}
	return d.checkRoleType(c, s, data)
}

// checkRoleType compares the dynamic role's credential types and settings with
// the request, as Vault will.
func (d *doctorRun) checkRoleType(c Check, s *config.Settings, data map[string]any) Check {
	types := splitList(data["credential_type"])
	switch {
	case len(types) == 0:
		c.OK, c.Detail = true, fmt.Sprintf("role %s exists (%s/roles/%s); its credential type was not said", s.Role, s.Mount, s.Role)
		return c
	case len(types) > 1:
		c.Detail = fmt.Sprintf("role %s allows several credential types (%s): Vault asks which one, and this helper does not say", s.Role, strings.Join(types, ", "))
		c.Hint = "use a role with one credential_type, or ask Vault's operators for one"
		return c
	}
	d.roleType = types[0]
	if s.Type != "" && s.Type != types[0] {
		c.Detail = fmt.Sprintf("role %s issues %s credentials, not %s", s.Role, types[0], s.Type)
		c.Hint = fmt.Sprintf("use --type %s (or type = %q in the profile), or leave the type out: the role decides", types[0], types[0])
		return c
	}
	if msg, hint := roleSettings(s, types[0], data); msg != "" {
		c.Detail, c.Hint = fmt.Sprintf("role %s (%s): %s", s.Role, types[0], msg), hint
		return c
	}
	c.OK, c.Detail = true, fmt.Sprintf("role %s exists and issues %s credentials", s.Role, types[0])
	return c
}

// roleSettings checks what the request must add for the role: the role ARN
// of an assumed_role role with several, the MFA code of a session_token
// role with an MFA device. It returns "" when nothing is missing.
func roleSettings(s *config.Settings, typ string, data map[string]any) (msg, hint string) {
	switch {
	case typ == config.TypeAssumedRole:
		arns := splitList(data["role_arns"])
		if s.RoleARN != "" && len(arns) > 0 && !slices.Contains(arns, s.RoleARN) {
			return "role ARN " + s.RoleARN + " is not among the role's role_arns", "use one of: " + strings.Join(arns, ", ")
		}
		if s.RoleARN == "" && len(arns) > 1 {
			return "the role allows several role ARNs and the request names none", "pass --role-arn (or role_arn in the profile), one of: " + strings.Join(arns, ", ")
		}
	case typ == config.TypeSessionToken:
		serial, _ := data["mfa_serial_number"].(string)
		if serial != "" && !s.MFARequired && s.MFACode == "" {
			return "the role needs an MFA code (device " + serial + ")", "set mfa = true in the profile (or mfa_command), or pass --mfa-code"
		}
	}
	return "", ""
}

// noRole is the check of a role Vault does not have: a static role asked
// for as dynamic (or the other way round) says which type to use; else
// the nearest role the token may list is suggested.
func (d *doctorRun) noRole(ctx context.Context, v *vault.Vault, s *config.Settings) Check {
	static := s.Type == config.TypeStatic
	kind, listCmd := "role", "vault list "+s.Mount+"/roles"
	if static {
		kind, listCmd = "static role", "vault list "+s.Mount+"/static-roles"
	}
	c := Check{Name: "vault role", Detail: fmt.Sprintf("no %s %s at %s", kind, s.Role, vault.RolePath(s.Mount, s.Role, static))}
	if other, err := v.Role(ctx, s.Mount, s.Role, !static); err == nil && other != nil {
		if static {
			types := splitList(other["credential_type"])
			c.Hint = "it is a dynamic role: leave out --type static (or type in the profile)"
			if len(types) == 1 {
				c.Hint = fmt.Sprintf("it is a dynamic role: use --type %s (or type = %q in the profile)", types[0], types[0])
			}
		} else {
			c.Hint = `it is a static role: use --type static (or type = "static" in the profile)`
		}
		return c
	}
	c.Hint = "check --role (or role in the profile): `" + listCmd + "` shows the roles"
	if names, err := v.Roles(ctx, s.Mount, static); err == nil {
		if near := closest(s.Role, names); near != "" {
			c.Hint += fmt.Sprintf("; did you mean %s?", near)
		}
	}
	return c
}

// splitList reads a field Vault gives as a comma-separated string or as a
// list of strings.
func splitList(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	case []any:
		for _, p := range v {
			if s, ok := p.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// credentials (--fetch) gets the credentials as the AWS client's run would,
// through the cache, and shows what identifies them: never a secret.
func (d *doctorRun) credentials(ctx context.Context) Check {
	c := Check{Name: "credentials"}
	creds, source, err := d.Fetch(ctx)
	if err != nil {
		return failedCheck("credentials", err)
	}
	typ := d.Settings.Type
	switch {
	case typ == "" && d.roleType != "":
		typ = d.roleType
	case typ == "" && creds.SessionToken == "":
		typ = "keys without a session token"
	case typ == "":
		typ = "temporary (STS) credentials"
	}
	exp := creds.Expiration.UTC()
	c.OK = true
	c.Detail = fmt.Sprintf("access key id %s, %s, %s, expire %s (in %s)", creds.AccessKeyID, typ, sourceText(source),
		exp.Format(time.RFC3339), exp.Sub(d.Now()).Round(time.Second))
	return c
}

// sourceText says where a run's credentials came from.
func sourceText(source process.CredentialSource) string {
	switch source {
	case process.SourceCache:
		return "from the cache"
	case process.SourceVault:
		return "new from Vault"
	case process.SourceRenewal:
		return "from the cache, lease renewed at Vault"
	case process.SourceOutage:
		return "from the cache: Vault could not answer"
	}
	return "from " + string(source)
}
