package awsconfig

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// marker starts the comment line that aws-config --all writes directly
// above the header of each profile it manages, followed by the Vault and
// the mount the profile's role is in:
//
//	# managed by vault-credential-process aws-config --all: vault=https://vault:8200 mount=aws
//	[profile aws-dev]
//
// A comment, because every AWS config parser skips a line that starts with
// # (botocore's configparser, the Go SDKs' and the JS SDK's INI parsers),
// where an unknown key inside the profile would be shown by `aws configure
// list-profiles`-style tools and may be refused by a stricter one. A
// profile whose header does not follow the marker line at once is not
// managed: a user who moves or edits the marker takes the profile over.
const marker = "# managed by vault-credential-process aws-config --all"

// Profile is one profile that aws-config --all keeps in the file.
type Profile struct {
	Name    string // the AWS profile: [profile Name]
	Command string // its credential_process value, as CommandLine makes it
	Region  string // its region; "" leaves a region line as it is
	Mount   string // the Vault mount of its role, recorded in the marker
}

// Plan is what Sync is to make of the file.
type Plan struct {
	// Scope names the Vault the profiles come from ("vault=ADDR", with
	// " namespace=NS" when there is one): only profiles managed for the same
	// scope are updated or removed, so that two Vaults can share a file.
	Scope    string
	Profiles []Profile
	// Prune removes the managed profiles of Scope that are not in Profiles
	// and whose mount Prunable allows: a mount listed completely, or one
	// that is no longer there at all.
	Prune    bool
	Prunable func(mount string) bool
}

// ChangeKind is what Sync did, or would do, to one profile.
type ChangeKind string

// The kinds of change. Kept, Stale and Unsure profiles are left as they
// are.
const (
	Added   ChangeKind = "add"
	Updated ChangeKind = "update"
	Removed ChangeKind = "remove"
	Kept    ChangeKind = "keep"   // in Profiles, but the file's profile is not ours
	Stale   ChangeKind = "stale"  // ours, its role gone, not removed (Reason says why)
	Unsure  ChangeKind = "unsure" // ours, not in Profiles, its mount not listed completely
)

// Change is one profile that Sync changed or chose not to change.
type Change struct {
	Profile string
	Kind    ChangeKind
	Reason  string // for Kept and Stale
}

// Result is the file after Sync, and how it got there.
type Result struct {
	Data    []byte
	Changes []Change // in the order of Plan.Profiles, then removals in file order
	ops     []op     // the edit, line by line, for Diff
}

// Changed reports whether the file's bytes differ.
func (r *Result) Changed() bool {
	return slices.ContainsFunc(r.ops, func(o op) bool { return o.kind != ' ' })
}

// MarkerLine is the marker comment for a profile of mount in scope.
func MarkerLine(scope, mount string) string {
	return marker + ": " + scope + " mount=" + mount
}

// errBadPlan marks a plan Sync refuses: a profile named twice, or a value
// that would break the file.
var errBadPlan = errors.New("bad profile plan")

// Sync returns the AWS config file data with the plan applied: new
// profiles appended, each under its marker; managed profiles of the plan's
// scope updated in place (the marker, credential_process and, when the plan
// sets one, region: any other line a user added to them stays); with Prune,
// managed profiles that are gone removed. Every other byte is kept: a
// profile of the plan's name that is not managed for this scope is Kept as
// it is, and said so.
func Sync(data []byte, plan Plan) (*Result, error) {
	if err := checkPlan(plan); err != nil {
		return nil, err
	}
	f := parseFile(data)
	e := &editor{f: f, edits: make([]lineEdit, len(f.lines))}
	var changes []Change
	planned := map[string]bool{}
	for _, p := range plan.Profiles {
		planned[p.Name] = true
		changes = append(changes, e.upsert(p, plan.Scope))
	}
	for _, s := range f.sections {
		if s.marker < 0 || s.scope != plan.Scope || planned[s.name] || s.name == "" {
			continue
		}
		planned[s.name] = true // a name twice in the file is reported once
		c := Change{Profile: s.name, Kind: Stale}
		switch {
		case plan.Prunable == nil || !plan.Prunable(s.mount):
			c.Kind, c.Reason = Unsure, "the listing of "+s.mount+" was not complete: its role may still be there"
		case f.count[s.name] > 1:
			c.Reason = "its role is gone, but the file has more than one profile of that name"
		case !plan.Prune:
			c.Reason = "its role is gone; --prune removes it"
		default:
			e.remove(s)
			c.Kind = Removed
		}
		changes = append(changes, c)
	}
	ops := e.ops()
	var b strings.Builder
	for _, o := range ops {
		if o.kind != '-' {
			b.WriteString(o.text)
		}
	}
	return &Result{Data: []byte(b.String()), Changes: changes, ops: ops}, nil
}

// checkPlan refuses names and values that would not stay on their line or
// in their section, and a name given twice.
func checkPlan(plan Plan) error {
	seen := map[string]bool{}
	bad := func(s string) bool { return s == "" || strings.ContainsAny(s, "\r\n") }
	if bad(plan.Scope) {
		return fmt.Errorf("%w: scope %q", errBadPlan, plan.Scope)
	}
	for _, p := range plan.Profiles {
		switch {
		case bad(p.Name) || strings.ContainsAny(p.Name, "[] \t"):
			return fmt.Errorf("%w: profile name %q", errBadPlan, p.Name)
		case seen[p.Name]:
			return fmt.Errorf("%w: profile %q planned twice", errBadPlan, p.Name)
		case bad(p.Command), strings.ContainsAny(p.Region, "\r\n"), bad(p.Mount) || strings.ContainsAny(p.Mount, " \t"):
			return fmt.Errorf("%w: profile %q: a value holds a line break", errBadPlan, p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}
