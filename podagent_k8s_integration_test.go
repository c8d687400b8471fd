package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// pod-agent with Vault's kubernetes auth method: Vault sends each token to a
// TokenReview endpoint on 127.0.0.1 (a fake kube-apiserver verifying the tokens with
// the key that signs them), as it would to a cluster's API server.

// podK8sMount is the kubernetes auth method the agent logs in at.
const podK8sMount = "k8s-review"

var podK8s struct {
	once   sync.Once
	err    error
	review *testbed.TokenReview
}

// podK8sSetup enables, once, the kubernetes auth method podK8sMount against a
// TokenReview endpoint that trusts podBed.key, with roles pod-a and pod-b bound to the
// service accounts team-a/app and team-b/app and to the agent's audience.
func podK8sSetup(t *testing.T, b *testbed.Bed) {
	t.Helper()
	podSetup(t, b)
	podK8s.once.Do(func() {
		ctx, cancel := context.WithTimeout(runCtx, time.Minute)
		defer cancel()
		podK8s.review = testbed.StartTokenReview(&podBed.key.PublicKey, podIssuer, "reviewer-"+randomHex(t, 8))
		steps := []struct {
			path string
			body any
		}{
			{"sys/auth/" + podK8sMount, map[string]any{"type": "kubernetes"}},
			{"auth/" + podK8sMount + "/config", map[string]any{"kubernetes_host": podK8s.review.URL,
				"disable_local_ca_jwt": true, "token_reviewer_jwt": podK8s.review.ReviewerJWT}},
		}
		for role, ns := range map[string]string{"pod-a": "team-a", "pod-b": "team-b"} {
			steps = append(steps, struct {
				path string
				body any
			}{"auth/" + podK8sMount + "/role/" + role, map[string]any{"bound_service_account_names": []string{"app"},
				"bound_service_account_namespaces": []string{ns}, "audience": podAudience,
				"token_policies": []string{role}, "token_ttl": "1h"}})
		}
		for _, s := range steps {
			if podK8s.err = b.VaultRequest(ctx, "POST", s.path, s.body, nil); podK8s.err != nil {
				podK8s.err = fmt.Errorf("%s: %w", s.path, podK8s.err)
				return
			}
		}
	})
	if podK8s.err != nil {
		t.Fatalf("set up the kubernetes auth method: %v", podK8s.err)
	}
}

// podK8sConfig maps team-a/app and team-b/app to their roles, and team-c/app to
// team-a's role, whose binding Vault must refuse it.
const podK8sConfig = `method = "kubernetes"
auth_mount = "` + podK8sMount + `"
aws_mount = "` + testbed.Mount + `"
[[rule]]
namespace = "team-a"
auth_role = "pod-a"
aws_role = "pod-a"
[[rule]]
namespace = "team-b"
auth_role = "pod-b"
aws_role = "pod-b"
[[rule]]
namespace = "team-c"
auth_role = "pod-a"
aws_role = "pod-a"
`

// TestPodAgentKubernetesMethod: with method = "kubernetes", two pods of different
// service accounts get their own AWS identities through aws-sdk-go-v2 with only the two
// standard variables, Vault having asked the TokenReview endpoint about each token; two
// replicas of one account are one identity (one mint); a forged token, one for another
// audience, and one whose service account the role's binding does not name get 401.
func TestPodAgentKubernetesMethod(t *testing.T) {
	b := requireBed(t)
	podK8sSetup(t, b)
	agent := startPodAgent(t, b, podK8sConfig, "127.0.0.1:0")
	config := clientConfig(t, b.MotoURL)
	hour := time.Now().Add(time.Hour)
	reviews := podK8s.review.Reviews()
	logins := func() int { return auditCount(t, b, "update", "auth/"+podK8sMount+"/login") }
	loginsBefore := logins()
	for _, pod := range []struct{ ns, arn string }{{"team-a", podBed.arnA}, {"team-b", podBed.arnB}} {
		t.Run(pod.ns, func(t *testing.T) {
			env := podEnv(t, config, agent.url, podToken(t, podBed.key, pod.ns, "app", podAudience, hour))
			want := assumedRoleARN(b, pod.arn)
			if id := runClient(t, env, awsgoChecker(t), "-profile", clientProfile); !want.MatchString(id.Arn) {
				t.Errorf("aws-sdk-go-v2: Arn = %q, want to match %s", id.Arn, want)
			}
		})
	}
	if podK8s.review.Reviews() == reviews {
		t.Error("Vault asked the TokenReview endpoint nothing")
	}
	t.Run("replicas", func(t *testing.T) {
		mints := auditCount(t, b, "update", testbed.Mount+"/creds/pod-a")
		var keys []string
		for range 2 {
			status, doc := agent.get(t, podToken(t, podBed.key, "team-a", "app", podAudience, hour))
			if status != 200 {
				t.Fatalf("a replica of team-a/app: %d %v", status, doc)
			}
			keys = append(keys, doc["AccessKeyId"])
		}
		if keys[0] != keys[1] || auditCount(t, b, "update", testbed.Mount+"/creds/pod-a") != mints {
			t.Errorf("two new replicas of team-a/app got %v with %d new mints; want one identity: the key in memory, no mint",
				keys, auditCount(t, b, "update", testbed.Mount+"/creds/pod-a")-mints)
		}
	})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	refusedBefore := logins()
	for _, tt := range []struct{ name, token string }{
		{"forged signature", podToken(t, other, "team-a", "app", podAudience, hour)},
		{"wrong audience", podToken(t, podBed.key, "team-a", "app", "sts.amazonaws.com", hour)},
		{"service account not bound", podToken(t, podBed.key, "team-c", "app", podAudience, hour)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, doc := agent.get(t, tt.token)
			if status != http.StatusUnauthorized || doc["code"] != "unauthorized" || doc["AccessKeyId"] != "" {
				t.Errorf("answer %d %v, want 401 unauthorized", status, doc)
			}
		})
	}
	if got := logins() - refusedBefore; got != 3 {
		t.Errorf("%d logins for the 3 refused tokens, want 3 (each asked of Vault once)", got)
	}
	t.Logf("%d logins at auth/%s, %d TokenReviews", logins()-loginsBefore, podK8sMount, podK8s.review.Reviews()-reviews)
}
