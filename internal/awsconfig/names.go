package awsconfig

import (
	"fmt"
	"strings"
)

// DefaultNameTemplate names the profiles of aws-config --all by mount and
// role, so that a profile's name depends on its own role only and stays
// the same when other roles come and go.
const DefaultNameTemplate = "{mount}-{role}"

// namePlaceholders are what a name template may hold.
var namePlaceholders = []string{"{mount}", "{role}"}

// CheckNameTemplate refuses a template that does not name the role (every
// role of a mount would get the same name) or holds a placeholder other
// than {mount} and {role}.
func CheckNameTemplate(template string) error {
	if !strings.Contains(template, "{role}") {
		return fmt.Errorf("the name template %q has no {role}", template)
	}
	rest := template
	for _, p := range namePlaceholders {
		rest = strings.ReplaceAll(rest, p, "")
	}
	if strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("the name template %q holds a placeholder other than {mount} and {role}", template)
	}
	return nil
}

// ProfileName is the template with {mount} and {role} filled in, and every
// character that is not a letter, a digit, '_', '.' or '-' (the slashes of
// a mount path, a blank of the template) made '-': a name the AWS config
// parsers and a shell take as one word.
func ProfileName(template, mount, role string) string {
	return safeName(strings.NewReplacer("{mount}", mount, "{role}", role).Replace(template))
}

// ARNSuffixes are the suffixes that tell apart the profiles of a role with
// several role_arns: each ARN's role name (its last path element), or,
// where two ARNs have the same role name, the account and the name.
func ARNSuffixes(arns []string) []string {
	names := make([]string, len(arns))
	count := map[string]int{}
	for i, a := range arns {
		names[i] = a[strings.LastIndexAny(a, ":/")+1:]
		count[names[i]]++
	}
	for i, a := range arns {
		if count[names[i]] > 1 {
			if parts := strings.SplitN(a, ":", 6); len(parts) == 6 {
				names[i] = parts[4] + "-" + names[i]
			}
		}
		names[i] = safeName(names[i])
	}
	return names
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, s)
}
