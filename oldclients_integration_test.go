//go:build linux

package main

// The AWS clients installed on many machines today, old and new, through the
// credentials server set up exactly as serve prints it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// jsV2Client is the JS SDK v2 client (tools/awsjs2).
var jsV2Client = &npmClient{name: "awsjs2", what: "AWS SDK for JavaScript v2 client",
	files: []string{"package.json", "package-lock.json", "awsjs2.js"}}

// awsjs2Install returns the folder of the installed JS SDK v2 client, installing it on
// first use.
func awsjs2Install(t *testing.T) string { return jsV2Client.install(t) }

// detachedServer is a server started with serve --detach, as its output says.
type detachedServer struct {
	printed string            // stdout of serve --detach: the commands for the shell
	vars    map[string]string // what they set ("<path" for a value read from a file)
	log     string
}

// startDetached runs `serve --detach args...` with env and returns once it has
// returned; the server is stopped with SIGTERM at the end of the test, and its log
// must then end with the shutdown and hold no secret.
func startDetached(t *testing.T, env []string, args ...string) *detachedServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaryUnderTest(t), append([]string{"serve", "--detach"}, args...)...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("serve --detach %v: %v\nstderr:\n%s", args, err, stderr.String())
	}
	assertNoSecret(t, "stderr of serve --detach", stderr.String())
	d := &detachedServer{printed: stdout.String(), vars: map[string]string{}}
	for _, l := range strings.Split(d.printed, "\n") {
		if m := exportLine.FindStringSubmatch(l); m != nil {
			d.vars[m[1]] = m[2]
		} else if m := exportFromFile.FindStringSubmatch(l); m != nil {
			d.vars[m[1]] = "<" + m[2]
		}
	}
	pid, err := strconv.Atoi(d.vars[envServePID])
	if err != nil {
		t.Fatalf("serve --detach printed no pid:\n%s", d.printed)
	}
	d.log = d.vars[envServeLog]
	done := pidDone(t, pid)
	t.Cleanup(func() {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			t.Errorf("stop the server %d: %v", pid, err)
			return
		}
		<-done
		log := d.logText(t)
		if !strings.HasSuffix(log, "serve: shut down\n") {
			t.Errorf("the log of the server does not end with its shutdown:\n%s", log)
		}
	})
	return d
}

// logText is the server's log so far; it must hold no secret.
func (d *detachedServer) logText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(d.log)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "the log of serve --detach", string(data))
	return string(data)
}

// asPrinted is argv run by sh after the commands serve printed, as a user's shell runs
// them.
func (d *detachedServer) asPrinted(argv ...string) []string {
	return append([]string{"sh", "-c", d.printed + `exec "$@"`, "sh"}, argv...)
}

// oldClient is one AWS client of the matrix, run once.
type oldClient struct {
	name string
	// run runs the client with env, argv wrapped by wrap, and returns the identity it
	// reports (Arn may be empty: rclone reports only the key it signed with).
	run func(t *testing.T, env []string, wrap func(...string) []string, moto string) (callerIdentity, error)
	// refuses reports whether the client refuses credentials without a session
	// token from this front end ("container" or "imds").
	refuses func(frontend string) bool
}

// tryClient runs argv with env and decodes the JSON line it prints; a failure is the
// error, with what the client said (a line holding a token left out).
func tryClient(env, argv []string) (callerIdentity, error) {
	ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var id callerIdentity
	if err := cmd.Run(); err != nil {
		return id, fmt.Errorf("%v: %s", err, withoutTokens(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), &id); err != nil {
		return id, fmt.Errorf("decode %q: %v", stdout.String(), err)
	}
	return id, nil
}

// withoutTokens is text without its lines that name a token: what a failed client
// said, fit for the test's log.
func withoutTokens(text string) string {
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.Contains(strings.ToLower(l), "token:") && !strings.Contains(l, "Secret") {
			keep = append(keep, l)
		}
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

// rcloneSigned matches the key of rclone's --dump headers.
var rcloneSigned = regexp.MustCompile(`Authorization: AWS4-HMAC-SHA256 Credential=([^/,\s]+)/`)

func oldClients() []oldClient {
	never := func(string) bool { return false }
	return []oldClient{
		{"aws CLI v2 (Debian 12)", func(t *testing.T, env []string, wrap func(...string) []string, moto string) (callerIdentity, error) {
			// 2.9 does not read endpoint_url from the profile.
			return tryClient(env, wrap(debianAWS(t), "--profile", clientProfile, "--endpoint-url", moto, "sts", "get-caller-identity", "--output", "json"))
		}, never},
		{"rclone (Debian 12)", func(t *testing.T, env []string, wrap func(...string) []string, moto string) (callerIdentity, error) {
			// rclone uses aws-sdk-go v1's providers for env_auth; S3's ListBuckets at
			// moto, and the key it signed with from the headers it dumps.
			remote := ":s3,provider=Other,env_auth=true,region=" + testbed.Region + ",endpoint='" + moto + "':"
			ctx, cancel := context.WithTimeout(runCtx, 2*time.Minute)
			defer cancel()
			argv := wrap(debianRclone(t), "lsd", remote, "--dump", "headers,auth", "--retries", "1", "--low-level-retries", "1")
			cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
			cmd.Env = append(env, "RCLONE_CONFIG="+filepath.Join(t.TempDir(), "rclone.conf"))
			out, err := cmd.CombinedOutput()
			m := rcloneSigned.FindSubmatch(out)
			if err != nil || m == nil {
				return callerIdentity{}, fmt.Errorf("rclone lsd: %v: %s", err, withoutTokens(string(out)))
			}
			return callerIdentity{AccessKeyID: string(m[1])}, nil
		}, never},
		{"aws-sdk-go v1", func(t *testing.T, env []string, wrap func(...string) []string, moto string) (callerIdentity, error) {
			return tryClient(env, wrap(awsgo1Checker(t), "-profile", clientProfile, "-endpoint", moto))
		}, never},
		{"JS SDK v2", func(t *testing.T, env []string, wrap func(...string) []string, moto string) (callerIdentity, error) {
			return tryClient(env, wrap("node", filepath.Join(awsjs2Install(t), "awsjs2.js"), "--endpoint", moto, "--region", testbed.Region))
		}, func(frontend string) bool { return frontend == "container" }},
	}
}

// debianAWS and debianRclone are the clients Debian 12 packages (apt-get install
// awscli rclone; .ci/run installs them), at the paths Debian puts them.
func debianAWS(t *testing.T) string    { return debianTool(t, "/usr/bin/aws", "awscli") }
func debianRclone(t *testing.T) string { return debianTool(t, "/usr/bin/rclone", "rclone") }

func debianTool(t *testing.T, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		unavailable(t, "%s: %v (apt-get install %s)", path, err, pkg)
	}
	return path
}

// TestServeOldClients: the AWS clients installed on many machines today, in versions
// from before 2023 (Debian 12's aws CLI v2.9 and rclone 1.60, whose aws-sdk-go is
// v1.44; the JS SDK v2 2.1200) and current ones (aws-sdk-go v1's last, the aws CLI v1,
// boto3, aws-sdk-go-v2, the JS SDK v3), get the identity Vault minted through serve
// set up exactly as serve --detach prints it, and through --imds, for iam_user,
// assumed_role and static credentials. The one known refusal, the JS SDK v2 taking no
// credentials without a session token from the container endpoint, fails on the
// client's side and is said in the server's log.
func TestServeOldClients(t *testing.T) {
	b := requireBed(t)
	s := newServeSetup(t, b)
	env := s.clientEnv
	for _, ty := range serveTypes(b) {
		if ty.profile != "iam" && ty.profile != "assume" && ty.profile != "static" {
			continue
		}
		container := startDetached(t, s.helperEnv, "--profile", ty.profile)
		imds := startDetached(t, s.helperEnv, "--imds", "--profile", ty.profile)
		imdsEnv := append(cleanEnv(env, "AWS_EC2_METADATA_DISABLED="), envIMDS+"="+imds.vars[envIMDS])
		noWrap := func(argv ...string) []string { return argv }
		fronts := []struct {
			name string
			env  []string
			wrap func(...string) []string
			srv  *detachedServer
		}{
			{"container", env, container.asPrinted, container},
			{"imds", imdsEnv, noWrap, imds},
		}
		for _, f := range fronts {
			for _, c := range oldClients() {
				t.Run(c.name+"/"+f.name+"/"+ty.profile, func(t *testing.T) {
					id, err := c.run(t, f.env, f.wrap, b.MotoURL)
					s.registerSecrets()
					if ty.profile != "assume" && c.refuses(f.name) {
						if err == nil {
							t.Fatalf("took credentials without a session token: %+v", id)
						}
						if log := f.srv.logText(t); !strings.Contains(log, "warning: served credentials without a session token") {
							t.Errorf("the refusal is not said in the server's log:\n%s", log)
						}
						return
					}
					if err != nil {
						t.Fatalf("%v\nthe server's log:\n%s", err, f.srv.logText(t))
					}
					oldClientCheck(t, s, ty.arn, ty.profile, id)
				})
			}
			for _, c := range serveClients() {
				t.Run(c.name+"/"+f.name+"/"+ty.profile, func(t *testing.T) {
					id := c.call(t, s, f.env, f.wrap(c.argv(t, b)...))
					s.check(t, c, ty.arn, id, "serve", ty.profile)
				})
			}
		}
	}
}

// oldClientCheck checks the identity a client reported: the ARN, when it says one,
// and the key it signed with, when it says that, against what the server handed out.
func oldClientCheck(t *testing.T, s serveSetup, arn, profile string, id callerIdentity) {
	t.Helper()
	if id.Arn != "" && !regexp.MustCompile(arn).MatchString(id.Arn) {
		t.Errorf("Arn = %q, want to match %s", id.Arn, arn)
	}
	if id.AccessKeyID != "" && id.AccessKeyID != s.servedKey(t, "serve", profile) {
		t.Errorf("signed with %q, want the served %q", id.AccessKeyID, s.servedKey(t, "serve", profile))
	}
	if id.Arn == "" && id.AccessKeyID == "" {
		t.Error("the client reported neither an identity nor a key")
	}
}
