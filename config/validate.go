package config

import (
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/go-secure-stdlib/parseutil"
)

var (
	// name is the pattern Vault's AWS engine accepts for role names
	// (framework.GenericNameRegex).
	name = regexp.MustCompile(`^\w(?:[\w.-]*\w)?$`)
	// roleARN accepts IAM role ARNs in the partitions Vault's AWS engine
	// supports, with a 12-digit account and AWS's role path/name characters.
	roleARN     = regexp.MustCompile(`^arn:(?:aws|aws-cn|aws-us-gov):iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	mfaCode     = regexp.MustCompile(`^\d{6}$`)
)

func validName(s string) bool { return len(s) <= 128 && name.MatchString(s) }

// validMount accepts one or more path segments such as "aws" or
// "team-a/aws"; never "..", empty segments or characters that would change
// the request URL.
func validMount(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "." || seg == ".." || !name.MatchString(seg) {
			return false
		}
	}
	return true
}

// ValidTTL reports whether s is a TTL in Vault's syntax ("1h", "90m",
// "3600", "3600s", "1d") that is positive and a whole number of seconds.
func ValidTTL(s string) (time.Duration, bool) {
	d, err := parseutil.ParseDurationSecond(strings.TrimSpace(s))
	if err != nil || d <= 0 || d%time.Second != 0 {
		return 0, false
	}
	return d, true
}

func positiveDuration(v value) (time.Duration, error) {
	return duration(v, false)
}

// duration parses an optional duration; zero is allowed only when
// allowZero is set (the refresh window may be turned off).
func duration(v value, allowZero bool) (time.Duration, error) {
	if v.v == "" {
		return 0, nil
	}
	if allowZero {
		if d, err := parseutil.ParseDurationSecond(strings.TrimSpace(v.v)); err == nil && d == 0 {
			return 0, nil
		}
	}
	d, ok := ValidTTL(v.v)
	if !ok {
		return 0, v.errorf("invalid duration %q", v.v).
			withHint(`use Vault's duration syntax, such as "90m", "1h", "3600" or "3600s" (whole seconds, above zero)`)
	}
	return d, nil
}
