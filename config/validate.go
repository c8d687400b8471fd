package config

import (
	"strings"
	"time"

	"github.com/hashicorp/go-secure-stdlib/parseutil"
)

// The validators below are plain loops rather than regular expressions:
// they run on every invocation, cache hits included, and compiling the
// equivalent patterns at start-up cost more than the rest of a hit.

// wordChar is \w: an ASCII letter, digit or underscore.
func wordChar(c byte) bool {
	return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// allOf reports whether every byte of s is a word character or in extra.
func allOf(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		if !wordChar(s[i]) && !strings.ContainsRune(extra, rune(s[i])) {
			return false
		}
	}
	return true
}

// validName accepts what Vault's AWS engine accepts for role names
// (framework.GenericNameRegex): word characters, '.' and '-', starting and
// ending with a word character.
func validName(s string) bool {
	return s != "" && len(s) <= 128 && allOf(s, ".-") && wordChar(s[0]) && wordChar(s[len(s)-1])
}

// validRoleARN accepts IAM role ARNs in the partitions Vault's AWS engine
// supports, with a 12-digit account and AWS's role path and name characters.
func validRoleARN(s string) bool {
	var rest string
	for _, p := range []string{"arn:aws:iam::", "arn:aws-cn:iam::", "arn:aws-us-gov:iam::"} {
		if r, ok := strings.CutPrefix(s, p); ok {
			rest = r
			break
		}
	}
	if len(rest) < 12 {
		return false
	}
	for i := 0; i < 12; i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return false
		}
	}
	name, ok := strings.CutPrefix(rest[12:], ":role/")
	return ok && name != "" && len(name) <= 512 && allOf(name, "+=,.@/-")
}

// validSessionName: 2 to 64 characters of [\w+=,.@-], as STS requires.
func validSessionName(s string) bool {
	return len(s) >= 2 && len(s) <= 64 && allOf(s, "+=,.@-")
}

// ValidMFACode reports whether s is an MFA code: six digits.
func ValidMFACode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validMount accepts one or more path segments such as "aws" or
// "team-a/aws"; never "..", empty segments or characters that would change
// the request URL.
func validMount(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "." || seg == ".." || !validName(seg) {
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
