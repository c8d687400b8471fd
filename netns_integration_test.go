//go:build linux

package main

// Containers proven rather than described: a network namespace with a veth pair to
// this host stands for a container (or an EC2 guest) without Docker. serve listens on
// the host side at the address ECS (or EC2's instance metadata) uses, and AWS clients
// inside the namespace get the identity Vault minted through it. moto is reached from
// inside through a TCP forwarder on the host side: the guest cannot reach the host's
// 127.0.0.1. Needs root (CI runs as root); skipped where `ip netns` is refused, except
// with CI=true.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// The host side's addresses: ECS's container credentials address, and EC2's instance
// metadata address.
const (
	ecsAddr  = "169.254.170.2"
	imdsAddr = "169.254.169.254"
)

// netns is a network namespace of the test's own, joined to the host by a veth pair:
// the guest has one address, the host side the addresses given, and each reaches the
// other's by a route of one address, so that concurrent runs do not meet.
type netns struct {
	name, guestIP string
}

// newNetns makes the namespace and the pair, with names unique to this run, and
// removes both when the test ends, however it ends.
func newNetns(t *testing.T, hostAddrs ...string) *netns {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		unavailable(t, "network namespace: no ip command (iproute2): %v", err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(b[:])
	n := &netns{name: "vcp-" + id, guestIP: fmt.Sprintf("169.254.%d.%d", 180+int(b[0])%60, 1+int(b[1])%250)}
	host, guest := "vh"+id, "vc"+id // at most 15 characters
	if out, err := exec.Command("ip", "netns", "add", n.name).CombinedOutput(); err != nil {
		unavailable(t, "network namespace: `ip netns add` is refused here (CI runs as root): %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", host).Run() // gone with the namespace, unless that failed
		if out, err := exec.Command("ip", "netns", "del", n.name).CombinedOutput(); err != nil {
			t.Errorf("remove network namespace %s: %v: %s", n.name, err, out)
		}
	})
	steps := [][]string{{"link", "add", host, "type", "veth", "peer", "name", guest, "netns", n.name}}
	for _, a := range hostAddrs {
		steps = append(steps, []string{"addr", "add", a + "/32", "dev", host})
	}
	steps = append(steps, []string{"link", "set", host, "up"}, []string{"route", "add", n.guestIP + "/32", "dev", host},
		[]string{"-n", n.name, "addr", "add", n.guestIP + "/32", "dev", guest},
		[]string{"-n", n.name, "link", "set", guest, "up"}, []string{"-n", n.name, "link", "set", "lo", "up"})
	for _, a := range hostAddrs {
		steps = append(steps, []string{"-n", n.name, "route", "add", a + "/32", "dev", guest})
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return n
}

// argv is argv run inside the namespace.
func (n *netns) argv(argv ...string) []string {
	return append([]string{"ip", "netns", "exec", n.name}, argv...)
}

// forward listens on listen (host:0) and copies each connection to and from to; it
// returns the address it listens on, and stops when the test ends.
func forward(t *testing.T, listen, to string) string {
	t.Helper()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer in.Close()
				out, err := net.DialTimeout("tcp", to, 10*time.Second)
				if err != nil {
					return
				}
				defer out.Close()
				go func() {
					_, _ = io.Copy(out, in)
					out.(*net.TCPConn).CloseWrite()
				}()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	return ln.Addr().String()
}

// motoHost is moto's host:port.
func motoHost(b *testbed.Bed) string {
	return strings.TrimPrefix(strings.TrimSuffix(b.MotoURL, "/"), "http://")
}

// TestNetnsContainer: serve on the host at 169.254.170.2, as ECS serves a task; the
// aws CLI and aws-sdk-go-v2 inside the namespace get the identity Vault minted through
// AWS_CONTAINER_CREDENTIALS_FULL_URI and the token file (a file of the host, as a
// container has it mounted), and the server's log shows the requests came from the
// guest's address.
func TestNetnsContainer(t *testing.T) {
	b := requireBed(t)
	s := newServeSetup(t, b)
	ns := newNetns(t, ecsAddr)
	moto := "http://" + forward(t, ecsAddr+":0", motoHost(b))
	config := clientConfig(t, moto)
	tokenDir := privateDir(t) // mounted whole into a container: the file is replaced by rename
	srv := startServe(t, s.helperEnv, []string{envFullURI, envTokenFile}, "--listen", ecsAddr+":0",
		"--token-file", filepath.Join(tokenDir, "token"), "--profile", "assume")
	if !strings.HasPrefix(srv.vars[envFullURI], "http://"+ecsAddr+":") {
		t.Fatalf("%s = %s, want the ECS address", envFullURI, srv.vars[envFullURI])
	}
	env := append(clientEnv(cleanEnv(s.helperEnv, "VAULT_"), config), envFullURI+"="+srv.vars[envFullURI],
		envTokenFile+"="+srv.vars[envTokenFile])
	clients := []nsClient{
		{"aws CLI", false, func(*testing.T) []string {
			return []string{"aws", "--profile", clientProfile, "sts", "get-caller-identity", "--output", "json"}
		}},
		{"aws-sdk-go-v2", true, func(t *testing.T) []string { return []string{awsgoChecker(t), "-profile", clientProfile} }},
	}
	ns.runClients(t, b, s, env, clients)
	if stderr := srv.stop(t); strings.Count(stderr, ns.guestIP+`:`) < len(clients) || !strings.Contains(stderr, "profile=assume status=200") {
		t.Errorf("the server's log shows no requests from the guest %s:\n%s", ns.guestIP, stderr)
	}
}

// nsClient is an AWS client run inside the namespace: its argv (t, for a client
// installed on first use), and whether it signs its call with the served keys (the aws
// CLI's call is known by its Arn alone).
type nsClient struct {
	name  string
	signs bool
	argv  func(t *testing.T) []string
}

// runClients runs each client inside ns with env: it gets the identity of the assume
// role that s serves, and one that signs uses the served key.
func (ns *netns) runClients(t *testing.T, b *testbed.Bed, s serveSetup, env []string, clients []nsClient) {
	t.Helper()
	arn := regexp.MustCompile(serveTypes(b)[1].arn)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			argv := ns.argv(c.argv(t)...)
			id := runClient(t, env, argv[0], argv[1:]...)
			s.registerSecrets()
			if !arn.MatchString(id.Arn) {
				t.Errorf("Arn = %q, want to match %s", id.Arn, arn)
			}
			if want := s.servedKey(t, "serve", "assume"); c.signs && id.AccessKeyID != want {
				t.Errorf("signed with %q, want the served %q", id.AccessKeyID, want)
			}
		})
	}
}

// TestNetnsIMDS: serve --imds on the host at 169.254.169.254:80, as EC2's instance
// metadata; the aws CLI and the JS SDK v2 inside the namespace, with no AWS variable at
// all, find the credentials through their default chains, as on EC2.
func TestNetnsIMDS(t *testing.T) {
	b := requireBed(t)
	s := newServeSetup(t, b)
	ns := newNetns(t, ecsAddr, imdsAddr)
	moto := "http://" + forward(t, ecsAddr+":0", motoHost(b))
	srv := startServe(t, s.helperEnv, []string{envFullURI, envTokenFile, envIMDS}, "--imds", "--listen", imdsAddr+":80", "--profile", "assume")
	home := t.TempDir() // no ~/.aws
	env := append(cleanEnv(os.Environ(), "AWS_", "VAULT_", "HOME=", "XDG_"), "HOME="+home)
	ns.runClients(t, b, s, env, []nsClient{
		{"aws CLI", false, func(*testing.T) []string {
			return []string{"aws", "--region", testbed.Region, "--endpoint-url", moto, "sts", "get-caller-identity", "--output", "json"}
		}},
		{"JS SDK v2", true, func(t *testing.T) []string {
			return []string{"node", filepath.Join(awsjs2Install(t), "awsjs2.js"), "--endpoint", moto, "--region", testbed.Region}
		}},
	})
	if stderr := srv.stop(t); !strings.Contains(stderr, ns.guestIP+`:`) ||
		!strings.Contains(stderr, `"/latest/meta-data/iam/security-credentials/assume" profile=assume status=200`) {
		t.Errorf("the server's log shows no IMDS requests from the guest %s:\n%s", ns.guestIP, stderr)
	}
}
