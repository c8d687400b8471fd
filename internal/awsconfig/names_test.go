package awsconfig

import (
	"slices"
	"testing"
)

// TestProfileName: the template filled in, and what the AWS config parsers or a shell
// would not take as one word made '-'.
func TestProfileName(t *testing.T) {
	for _, tt := range []struct{ template, mount, role, want string }{
		{DefaultNameTemplate, "aws", "dev", "aws-dev"},
		{DefaultNameTemplate, "team/aws", "dev", "team-aws-dev"},
		{"vault {role}", "aws", "dev.ro", "vault-dev.ro"},
		{"{role}@{mount}", "x[1]", "a_b", "a_b-x-1-"},
	} {
		if got := ProfileName(tt.template, tt.mount, tt.role); got != tt.want {
			t.Errorf("ProfileName(%q, %q, %q) = %q, want %q", tt.template, tt.mount, tt.role, got, tt.want)
		}
	}
}

func TestCheckNameTemplate(t *testing.T) {
	for template, ok := range map[string]bool{
		DefaultNameTemplate: true, "{role}": true, "x-{role}-{mount}": true,
		"{mount}": false, "{role}-{type}": false, "{role}}": false, "": false,
	} {
		if err := CheckNameTemplate(template); (err == nil) != ok {
			t.Errorf("CheckNameTemplate(%q) = %v, want ok %v", template, err, ok)
		}
	}
}

func TestARNSuffixes(t *testing.T) {
	arns := []string{"arn:aws:iam::111111111111:role/a", "arn:aws:iam::111111111111:role/team/b",
		"arn:aws:iam::222222222222:role/a", "arn:aws-cn:iam::333333333333:role/c+d"}
	want := []string{"111111111111-a", "b", "222222222222-a", "c-d"}
	if got := ARNSuffixes(arns); !slices.Equal(got, want) {
		t.Errorf("ARNSuffixes = %q, want %q", got, want)
	}
}
