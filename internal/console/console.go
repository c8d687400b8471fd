// Package console signs in to the AWS Management Console with AWS
// credentials, as a custom identity broker does: it trades the credentials
// for a sign-in token at the federation endpoint of their partition
// (Action=getSigninToken) and builds the Action=login URL that opens the
// console. Long-term IAM user keys, which the federation endpoint refuses,
// are first traded for a federation token with sts:GetFederationToken
// (federate.go).
//
// The sign-in token and the URL are bearer credentials for 15 minutes:
// nothing here puts them, or the credentials, in an error string.
package console

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Credentials are AWS credentials to sign in with.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // "" for long-term IAM user keys
}

// Kind is what AWS made the credentials with, which decides how the
// federation endpoint treats them.
type Kind int

// The kinds of credentials.
const (
	// AssumedRole credentials come from sts:AssumeRole: the federation
	// endpoint takes them, with a SessionDuration if asked.
	AssumedRole Kind = iota + 1
	// FederationToken credentials come from sts:GetFederationToken: taken
	// without SessionDuration; the console session lasts as long as they do.
	FederationToken
	// LongTerm are an IAM user's access keys: refused by the federation
	// endpoint, so they are traded with GetFederationToken first.
	LongTerm
	// SessionToken credentials come from sts:GetSessionToken: AWS never
	// accepts them for console sign-in.
	SessionToken
)

func (k Kind) String() string {
	switch k {
	case AssumedRole:
		return "assumed-role"
	case FederationToken:
		return "federation token"
	case LongTerm:
		return "long-term IAM user"
	case SessionToken:
		return "session token"
	}
	return "unknown"
}

// Bounds of the console session AWS accepts: SessionDuration of assumed-role
// credentials, and DurationSeconds of GetFederationToken for a console
// session.
const (
	minDuration           = 15 * time.Minute
	maxSessionDuration    = 12 * time.Hour // SessionDuration, assumed-role credentials
	maxFederationDuration = 36 * time.Hour // GetFederationToken with an IAM user's keys
)

// ErrSessionToken is the refusal of GetSessionToken credentials, which AWS
// never accepts for console sign-in.
var ErrSessionToken = errors.New("AWS does not accept session_token credentials (sts:GetSessionToken) for console sign-in")

// partition is a group of AWS regions with its own sign-in and console hosts.
type partition struct {
	ID          string // aws, aws-us-gov, aws-cn
	SigninHost  string // host of the federation endpoint
	ConsoleHost string // the console's domain; regional hosts are REGION.ConsoleHost
}

var (
	partitionAWS   = partition{"aws", "signin.aws.amazon.com", "console.aws.amazon.com"}
	partitionGov   = partition{"aws-us-gov", "signin.amazonaws-us-gov.com", "console.amazonaws-us-gov.com"}
	partitionChina = partition{"aws-cn", "signin.amazonaws.cn", "console.amazonaws.cn"}
)

// regionRE is the shape of a region name: it goes into host names, so
// nothing else is let through.
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+){2,3}$`)

// ValidRegion reports whether region looks like an AWS region name
// (us-east-1, us-gov-west-1, cn-north-1).
func ValidRegion(region string) bool { return len(region) <= 32 && regionRE.MatchString(region) }

// partitionOf is the partition of region.
func partitionOf(region string) partition {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return partitionGov
	case strings.HasPrefix(region, "cn-"):
		return partitionChina
	}
	return partitionAWS
}

// federationEndpoint is the federation endpoint of region's partition.
func federationEndpoint(region string) string {
	return "https://" + partitionOf(region).SigninHost + "/federation"
}

// defaultDestination is the console home of region.
func defaultDestination(region string) string {
	return "https://" + region + "." + partitionOf(region).ConsoleHost + "/console/home?region=" + region
}

// CheckEndpoint refuses an endpoint that could expose what is sent to it:
// credentials go to the federation endpoint in the query, so it must be
// https, or http on a loopback address (the tests' fake endpoints).
func CheckEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an http(s) URL without user, query or fragment", endpoint)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q is plain http to a host other than this machine", endpoint)
	}
	return fmt.Errorf("%q is not an http(s) URL", endpoint)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckDestination refuses a destination that is not an absolute https URL.
func CheckDestination(dest string) error {
	u, err := url.Parse(dest)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q is not an https URL", dest)
	}
	return nil
}

// loginURL is the URL that signs in to the console with token and then
// opens destination. issuer is where AWS sends the user when the session
// ends.
func loginURL(endpoint, issuer, destination, token string) string {
	q := url.Values{}
	q.Set("Action", "login")
	if issuer != "" {
		q.Set("Issuer", issuer)
	}
	q.Set("Destination", destination)
	q.Set("SigninToken", token)
	return endpoint + "?" + q.Encode()
}
