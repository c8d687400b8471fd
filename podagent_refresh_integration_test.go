package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// The pod agent's background refresh against the real Vault: iam_user credentials of
// shortMount live shortLease (40 s), and long-lived aws-sdk-go-v2 clients in a "pod"
// call STS through the agent across their expiry.

// podShort is the jwt auth role (and policy) of the service account team-s/app, which
// may mint shortMount's iam_user credentials.
const podShort = "pod-short"

var podShortSetup struct {
	once sync.Once
	err  error
}

// podShortRole adds, once, the auth role podShort at podAuthMount and its policy.
func podShortRole(t *testing.T, b *testbed.Bed) {
	t.Helper()
	podSetup(t, b)
	mountShort(t, b)
	podShortSetup.once.Do(func() {
		ctx, cancel := context.WithTimeout(runCtx, time.Minute)
		defer cancel()
		for _, s := range []struct {
			path string
			body any
		}{
			{"sys/policies/acl/" + podShort, map[string]any{"policy": fmt.Sprintf(
				`path "%s/creds/%s" { capabilities = ["create", "update", "read"] }`, shortMount, shortRole)}},
			{"auth/" + podAuthMount + "/role/" + podShort, map[string]any{"role_type": "jwt", "user_claim": "sub",
				"bound_audiences": []string{podAudience}, "bound_subject": "system:serviceaccount:team-s:app",
				"token_policies": []string{podShort}, "token_ttl": "1h"}},
		} {
			if podShortSetup.err = b.VaultRequest(ctx, "POST", s.path, s.body, nil); podShortSetup.err != nil {
				return
			}
		}
	})
	if podShortSetup.err != nil {
		t.Fatalf("set up %s: %v", podShort, podShortSetup.err)
	}
}

// startShortPod starts an agent that maps team-s/app to podShort and shortMount's
// role, and returns it, the pod's token, and the environment of a client in the pod.
func startShortPod(t *testing.T, b *testbed.Bed) (agent *podAgent, token string, env []string) {
	t.Helper()
	config := strings.Replace(podAgentConfig, `aws_mount = "`+testbed.Mount+`"`, `aws_mount = "`+shortMount+`"`, 1)
	config = strings.Replace(config, "[[rule]]", "[[rule]]\nnamespace = \"team-s\"\nservice_account = \"app\"\nauth_role = \""+
		podShort+"\"\naws_role = \""+shortRole+"\"\n[[rule]]", 1)
	agent = startPodAgent(t, b, config, "127.0.0.1:0")
	token = podToken(t, podBed.key, "team-s", "app", podAudience, time.Now().Add(time.Hour))
	return agent, token, podEnv(t, clientConfig(t, b.MotoURL), agent.url, token)
}

// TestPodAgentRefreshAcrossExpiry: two long-lived aws-sdk-go-v2 clients of one pod call
// GetCallerIdentity every half second across the expiry of the pod's first 40-second
// iam_user credentials, with no failed call. One keeps credentials until 2 s before
// they expire (-expiry-window 2s), so it asks the agent again only then: it must get
// keys the agent refreshed in the background. The other has the SDK's own 5-minute
// window for container credentials, so it asks the agent before every call. Every
// call is signed with a key that had not expired, and both clients change keys.
func TestPodAgentRefreshAcrossExpiry(t *testing.T) {
	b := requireBed(t)
	podShortRole(t, b)
	awsgoChecker(t) // built before the clock starts
	agent, token, env := startShortPod(t, b)
	mints := auditCount(t, b, "update", shortMount+"/creds/"+shortRole)

	clients := []*liveClient{
		startClient(t, "awsgo, 2s window", env, awsgoChecker(t), "-profile", clientProfile, "-serve", "-expiry-window", "2s"),
		startClient(t, "awsgo, SDK's window", env, awsgoChecker(t), "-profile", clientProfile, "-serve"),
	}
	expiry := map[string]time.Time{} // each key the agent served, and when it expires
	type signed struct {
		at  time.Time
		key string
	}
	calls := make([][]signed, len(clients))
	keys := func(i int) map[string]bool {
		m := map[string]bool{}
		for _, c := range calls[i] {
			m[c.key] = true
		}
		return m
	}
	start := time.Now()
	var firstExpiry time.Time
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		// What the agent serves now: the pod's credentials in memory.
		if status, doc := agent.get(t, token); status == 200 {
			exp, err := time.Parse(time.RFC3339, doc["Expiration"])
			if err != nil {
				t.Fatalf("Expiration %q: %v", doc["Expiration"], err)
			}
			expiry[doc["AccessKeyId"]] = exp
			if firstExpiry.IsZero() {
				firstExpiry = exp
			}
		} else {
			t.Fatalf("the agent answered %d %v", status, doc)
		}
		for i, c := range clients {
			id := c.call(t) // fails the test on any failed call
			calls[i] = append(calls[i], signed{time.Now(), id.AccessKeyID})
			if !strings.Contains(id.Arn, ":user/") {
				t.Errorf("%s: Arn %q, want an IAM user's (iam_user credentials)", c.name, id.Arn)
			}
		}
		if time.Now().After(firstExpiry.Add(3*time.Second)) && len(keys(0)) >= 2 && len(keys(1)) >= 2 {
			break
		}
		if time.Since(start) > 3*shortLease {
			t.Fatalf("after %s, the clients signed with %d and %d keys, want 2 each across the first expiry at %s",
				time.Since(start).Round(time.Second), len(keys(0)), len(keys(1)), firstExpiry.Format(time.RFC3339))
		}
		<-tick.C
	}
	for i, c := range clients {
		if stderr := c.wait(); c.err != nil {
			t.Errorf("%s: %v\nstderr:\n%s", c.name, c.err, stderr)
		}
		for _, call := range calls[i] {
			if exp, ok := expiry[call.key]; !ok || !call.at.Before(exp) {
				t.Errorf("%s: a call at %s signed with %s, which the agent served expiring %s",
					c.name, call.at.Format(time.RFC3339), call.key, exp.Format(time.RFC3339))
			}
		}
		t.Logf("%s: %d calls in %s, all succeeded, %d keys", c.name, len(calls[i]), time.Since(start).Round(time.Second), len(keys(i)))
	}
	if got := auditCount(t, b, "update", shortMount+"/creds/"+shortRole) - mints; got < 2 {
		t.Errorf("Vault's audit log shows %d mints, want at least 2 (the first and a refresh)", got)
	}
}
