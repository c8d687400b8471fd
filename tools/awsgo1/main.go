// Command awsgo1 is the AWS SDK for Go v1 (github.com/aws/aws-sdk-go) client of the
// integration tests. That SDK reached its end of support in 2025, but many Go tools
// still build on it, and it reads credential_process its own way: its INI lexer keeps
// only the quoted string of a value that starts with a double quote, and it runs the
// value through `sh -c` (`cmd.exe /C` on Windows).
//
// It loads a profile from the shared config file (AWS_CONFIG_FILE) the way a v1 program
// does with session.NewSessionWithOptions and SharedConfigEnable, which runs the
// profile's credential_process, and asks STS who it is. It prints one JSON line
// {"Arn", "Account", "UserId", "AccessKeyId"} on stdout and exits 0, or prints an error
// on stderr and exits 1; AccessKeyId is the key the SDK signed the request with, as
// tools/awsgo prints it.
//
// The v1 SDK does not read endpoint_url from the profile, so the STS endpoint is a
// flag.
//
// It is its own module so that the product's go.mod never depends on aws-sdk-go; the
// test harness builds it with `go build` in this folder.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/sts"
)

type identity struct {
	Arn         string `json:"Arn"`
	Account     string `json:"Account"`
	UserID      string `json:"UserId"`
	AccessKeyID string `json:"AccessKeyId"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("awsgo1", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", "", "shared config profile to load (required)")
	endpoint := fs.String("endpoint", "", "STS endpoint URL (required: v1 ignores endpoint_url in the profile)")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *profile == "" || *endpoint == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: awsgo1 -profile NAME -endpoint URL [-timeout D]")
		return 2
	}
	id, err := callerIdentity(*profile, *endpoint, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "awsgo1: error: %v\n", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(id); err != nil {
		fmt.Fprintf(stderr, "awsgo1: error: write result: %v\n", err)
		return 1
	}
	return 0
}

func callerIdentity(profile, endpoint string, timeout time.Duration) (identity, error) {
	sess, err := session.NewSessionWithOptions(session.Options{
		SharedConfigState: session.SharedConfigEnable,
		Profile:           profile,
	})
	if err != nil {
		return identity{}, fmt.Errorf("load profile %q: %w", profile, err)
	}
	svc := sts.New(sess, aws.NewConfig().WithEndpoint(endpoint))
	signedWith := ""
	// The Send handlers run after the Sign handlers: the Authorization header names
	// the key this request was really signed with.
	svc.Handlers.Send.PushFront(func(r *request.Request) {
		if m := credentialRE.FindStringSubmatch(r.HTTPRequest.Header.Get("Authorization")); m != nil {
			signedWith = m[1]
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := svc.GetCallerIdentityWithContext(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return identity{}, fmt.Errorf("sts get-caller-identity: %w", err)
	}
	return identity{
		Arn:         aws.StringValue(out.Arn),
		Account:     aws.StringValue(out.Account),
		UserID:      aws.StringValue(out.UserId),
		AccessKeyID: signedWith,
	}, nil
}

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/`)
