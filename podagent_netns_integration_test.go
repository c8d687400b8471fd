//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// podAgentAddr is EKS Pod Identity's address, where pod-agent listens on a node.
const podAgentAddr = "169.254.170.23"

// TestNetnsPodAgent: two pods as two network namespaces, each joined to this host
// (the node) by its own veth pair, reach pod-agent at 169.254.170.23 as pods reach
// EKS's Pod Identity Agent; with only AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (its projected token, a file of the host as
// a pod has it mounted) the aws CLI and aws-sdk-go-v2 in each get the identity of its
// own service account, and the agent's log shows each pod's address.
func TestNetnsPodAgent(t *testing.T) {
	b := requireBed(t)
	podSetup(t, b)
	pods := []struct {
		ns, arn string
		netns   *netns
	}{{"team-a", podBed.arnA, newNetns(t, podAgentAddr)}, {"team-b", podBed.arnB, newNetns(t, podAgentAddr)}}
	agent := startPodAgent(t, b, podAgentConfig, podAgentAddr+":0")
	moto := "http://" + forward(t, podAgentAddr+":0", motoHost(b))
	config := filepath.Join(t.TempDir(), "aws-config")
	writeFile(t, config, fmt.Sprintf("[profile %s]\nregion = %s\nendpoint_url = %s\n", clientProfile, testbed.Region, moto), 0o600)
	for _, pod := range pods {
		t.Run(pod.ns, func(t *testing.T) {
			token := podToken(t, podBed.key, pod.ns, "app", podAudience, time.Now().Add(time.Hour))
			tokenFile := filepath.Join(privateDir(t), "token")
			writeFile(t, tokenFile, token, 0o600)
			env := clientEnv(cleanEnv(os.Environ(), "VAULT_"), config, envFullURI+"="+agent.url, envTokenFile+"="+tokenFile)
			role := pod.arn[strings.LastIndex(pod.arn, "/")+1:]
			want := regexp.MustCompile(`^` + regexp.QuoteMeta("arn:aws:sts::"+b.AccountID+":assumed-role/"+role+"/") + `.+`)
			for _, argv := range [][]string{
				{"aws", "--profile", clientProfile, "sts", "get-caller-identity", "--output", "json"},
				{awsgoChecker(t), "-profile", clientProfile},
			} {
				argv = pod.netns.argv(argv...)
				if id := runClient(t, env, argv[0], argv[1:]...); !want.MatchString(id.Arn) {
					t.Errorf("%s: Arn = %q, want to match %s", filepath.Base(argv[4]), id.Arn, want)
				}
			}
		})
	}
	for _, pod := range pods {
		if log := agent.stderr.String(); !strings.Contains(log, pod.netns.guestIP+":") {
			t.Errorf("the agent's log shows no request from the pod %s at %s:\n%s", pod.ns, pod.netns.guestIP, log)
		}
	}
}
