// Command awsgo is the AWS SDK for Go v2 client of the integration tests: it loads a
// profile from the shared config file the way every Go program does, which runs the
// profile's credential_process, and asks STS who it is.
//
// By default it makes one call, prints one JSON line {"Arn", "Account", "UserId",
// "AccessKeyId"} on stdout and exits 0, or prints an error on stderr and exits 1.
// AccessKeyId is the key the SDK signed the request with.
//
// With -serve it is a long-lived client: one aws.Config and one STS client, and each
// line on stdin is one request (call GetCallerIdentity now) answered by one JSON line on
// stdout; a failed call prints {"Error": "..."}. It exits 0 at the end of stdin. The
// tests use it to see when the SDK runs credential_process again.
//
// -expiry-window sets aws.CredentialsCacheOptions.ExpiryWindow, as a program does with
// config.WithCredentialsCacheOptions. The SDK's own default for credential_process is
// no window: it uses credentials until they expire.
//
// It is its own module so that the product's go.mod never depends on aws-sdk-go-v2; the
// test harness builds it with `go build` in this folder.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

type identity struct {
	Arn         string `json:"Arn,omitempty"`
	Account     string `json:"Account,omitempty"`
	UserID      string `json:"UserId,omitempty"`
	AccessKeyID string `json:"AccessKeyId,omitempty"`
	Error       string `json:"Error,omitempty"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("awsgo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", "", "shared config profile to load (required)")
	timeout := fs.Duration("timeout", time.Minute, "give up on one call after this long")
	serve := fs.Bool("serve", false, "answer one call per line on stdin, until its end")
	window := fs.Duration("expiry-window", 0, "refresh credentials this long before they expire (SDK default: 0)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *profile == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: awsgo -profile NAME [-serve] [-expiry-window D] [-timeout D]")
		return 2
	}

	c, err := newClient(*profile, *window, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "awsgo: error: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	if !*serve {
		id, err := c.callerIdentity()
		if err != nil {
			fmt.Fprintf(stderr, "awsgo: error: %v\n", err)
			return 1
		}
		if err := enc.Encode(id); err != nil {
			fmt.Fprintf(stderr, "awsgo: error: write result: %v\n", err)
			return 1
		}
		return 0
	}

	lines := bufio.NewScanner(stdin)
	for lines.Scan() {
		id, err := c.callerIdentity()
		if err != nil {
			id = identity{Error: err.Error()}
		}
		if err := enc.Encode(id); err != nil {
			fmt.Fprintf(stderr, "awsgo: error: write result: %v\n", err)
			return 1
		}
	}
	if err := lines.Err(); err != nil {
		fmt.Fprintf(stderr, "awsgo: error: read stdin: %v\n", err)
		return 1
	}
	return 0
}

// client is one STS client and the access key of the last request it signed.
type client struct {
	sts        *sts.Client
	timeout    time.Duration
	signedWith string
}

func newClient(profile string, window, timeout time.Duration) (*client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	opts := []func(*config.LoadOptions) error{config.WithSharedConfigProfile(profile)}
	if window > 0 {
		opts = append(opts, config.WithCredentialsCacheOptions(func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = window
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load profile %q: %w", profile, err)
	}
	c := &client{timeout: timeout}
	c.sts = sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.APIOptions = append(o.APIOptions, c.recordSigningKey)
	})
	return c, nil
}

func (c *client) callerIdentity() (identity, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.signedWith = ""
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return identity{}, fmt.Errorf("sts get-caller-identity: %w", err)
	}
	return identity{
		Arn:         aws.ToString(out.Arn),
		Account:     aws.ToString(out.Account),
		UserID:      aws.ToString(out.UserId),
		AccessKeyID: c.signedWith,
	}, nil
}

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// recordSigningKey adds a middleware that reads the access key from the Authorization
// header: the deserialize step runs after the finalize step, where the SDK signs, so this
// is the key the request was really signed with, not one retrieved separately.
func (c *client) recordSigningKey(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("vcpSignedWith",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
			middleware.DeserializeOutput, middleware.Metadata, error,
		) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				if m := credentialRE.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
					c.signedWith = m[1]
				}
			}
			return next.HandleDeserialize(ctx, in)
		}), middleware.After)
}
