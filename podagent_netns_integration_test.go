//go:build linux

package main

import (
	"crypto/rand"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// EKS Pod Identity's addresses, where pod-agent listens on a node.
const (
	podAgentAddr  = "169.254.170.23"
	podAgentAddr6 = "fd00:ec2::23"
)

// TestNetnsPodAgent: two pods as two network namespaces, each joined to this host
// (the node) by its own veth pair, reach pod-agent at 169.254.170.23, or at
// [fd00:ec2::23] over IPv6, as pods reach EKS's Pod Identity Agent; with only
// AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (its
// projected token, a file of the host as a pod has it mounted) the aws CLI and
// aws-sdk-go-v2 in each get the identity of its own service account, and the agent's
// log shows each pod's address. Both clients allow a plain-http full URI to these two
// hosts by name (botocore's ContainerMetadataFetcher._ALLOWED_HOSTS, aws-sdk-go-v2
// config's isAllowedHost).
func TestNetnsPodAgent(t *testing.T) {
	for _, family := range []struct {
		name string
		pods func(t *testing.T) []*netns
		addr string // the agent's, and the moto forwarder's
	}{
		{"IPv4", func(t *testing.T) []*netns { return []*netns{newNetns(t, podAgentAddr), newNetns(t, podAgentAddr)} }, podAgentAddr},
		{"IPv6", func(t *testing.T) []*netns { return []*netns{newNetns6(t, podAgentAddr6), newNetns6(t, podAgentAddr6)} }, podAgentAddr6},
	} {
		t.Run(family.name, func(t *testing.T) {
			b := requireBed(t)
			podSetup(t, b)
			pods := family.pods(t)
			listen := net.JoinHostPort(family.addr, "0")
			agent := startPodAgent(t, b, podAgentConfig, listen)
			if want := "http://" + net.JoinHostPort(family.addr, ""); !strings.HasPrefix(agent.url, want) {
				t.Fatalf("the agent listens at %s, want %s...", agent.url, want)
			}
			moto := "http://" + forward(t, listen, motoHost(b))
			netnsPods(t, b, agent, moto, pods)
		})
	}
}

// netnsPods runs the aws CLI, aws-sdk-go-v2 and aws-sdk-go (v1) in the pods, of team-a and team-b, with
// the agent's URL and moto's, and checks the identities each got and the agent's log.
func netnsPods(t *testing.T, b *testbed.Bed, agent *podAgent, moto string, pods []*netns) {
	config := clientConfig(t, moto)
	for i, pod := range []struct{ ns, arn string }{{"team-a", podBed.arnA}, {"team-b", podBed.arnB}} {
		t.Run(pod.ns, func(t *testing.T) {
			env := podEnv(t, config, agent.url, podToken(t, podBed.key, pod.ns, "app", podAudience, time.Now().Add(time.Hour)))
			want := assumedRoleARN(b, pod.arn)
			for _, argv := range [][]string{
				{"aws", "--profile", clientProfile, "sts", "get-caller-identity", "--output", "json"},
				{awsgoChecker(t), "-profile", clientProfile},
				// aws-sdk-go v1 (1.55.8), whose container provider takes
				// 169.254.170.23 and the token file since 1.47.11.
				{awsgo1Checker(t), "-profile", clientProfile, "-endpoint", moto},
			} {
				argv = pods[i].argv(argv...)
				if id := runClient(t, env, argv[0], argv[1:]...); !want.MatchString(id.Arn) {
					t.Errorf("%s: Arn = %q, want to match %s", filepath.Base(argv[4]), id.Arn, want)
				}
			}
		})
	}
	for _, pod := range pods {
		if log := agent.stderr.String(); !strings.Contains(log, net.JoinHostPort(pod.guestIP, "")) {
			t.Errorf("the agent's log shows no request from the pod at %s:\n%s", pod.guestIP, log)
		}
	}
}

// newNetns6 is newNetns with IPv6 between host and guest: the host side has hostAddr
// and the guest an address of fd00:ec2::/64 of its own (without duplicate address
// detection, so that both are usable at once), each reaching the other's by a route
// of one address. guestIP is the IPv6 address.
func newNetns6(t *testing.T, hostAddr string) *netns {
	t.Helper()
	n := newNetns(t)
	id := strings.TrimPrefix(n.name, "vcp-") // newNetns names the pair vhID and vcID
	host, guest := "vh"+id, "vc"+id
	var r [2]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	n.guestIP = fmt.Sprintf("fd00:ec2::%x:%x", 0x100+int(r[0]), 1+int(r[1]))
	for _, s := range [][]string{
		{"-6", "addr", "add", hostAddr + "/128", "dev", host, "nodad"},
		{"-6", "route", "add", n.guestIP + "/128", "dev", host},
		{"-6", "-n", n.name, "addr", "add", n.guestIP + "/128", "dev", guest, "nodad"},
		{"-6", "-n", n.name, "route", "add", hostAddr + "/128", "dev", guest},
	} {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return n
}
