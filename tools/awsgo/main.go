// Command awsgo is the AWS SDK for Go v2 client of the integration tests: it loads a
// profile from the shared config file the way every Go program does, which runs the
// profile's credential_process, and asks STS who it is.
//
// It prints one JSON line {"Arn", "Account", "UserId", "AccessKeyId"} on stdout and exits 0,
// or an error on stderr and exits 1. It is its own module so that the product's go.mod
// never depends on aws-sdk-go-v2; the test harness builds it with `go build` in this folder.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

type identity struct {
	Arn         string `json:"Arn"`
	Account     string `json:"Account"`
	UserID      string `json:"UserId"`
	AccessKeyID string `json:"AccessKeyId"`
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("awsgo", flag.ContinueOnError)
	profile := fs.String("profile", "", "shared config profile to load (required)")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *profile == "" || fs.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: awsgo -profile NAME")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	id, err := callerIdentity(ctx, *profile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "awsgo: error: %v\n", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(id); err != nil {
		fmt.Fprintf(os.Stderr, "awsgo: error: write result: %v\n", err)
		return 1
	}
	return 0
}

func callerIdentity(ctx context.Context, profile string) (identity, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile(profile))
	if err != nil {
		return identity{}, fmt.Errorf("load profile %q: %w", profile, err)
	}
	// Retrieve runs credential_process; asking for the key separately shows which
	// credentials the SDK signed with, not only whom STS mapped them to.
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return identity{}, fmt.Errorf("retrieve credentials of profile %q: %w", profile, err)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return identity{}, fmt.Errorf("sts get-caller-identity: %w", err)
	}
	return identity{
		Arn:         aws.ToString(out.Arn),
		Account:     aws.ToString(out.Account),
		UserID:      aws.ToString(out.UserId),
		AccessKeyID: creds.AccessKeyID,
	}, nil
}
