package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/server"
)

// containerDoc is the container credentials document serve answers with.
type containerDoc struct {
	AccessKeyID     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	Token           string    `json:"Token"`
	Expiration      time.Time `json:"Expiration"`
}

// startBackground starts the probes, the SDK clients and the sampler of
// serve's RSS and open files; stopBg ends them.
func (s *soak) startBackground(ctx context.Context) {
	ctx, s.stopBg = context.WithCancel(ctx)
	s.stats = newSampler(s.serve.PID())
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.stats.run(ctx)
	}()
	for _, p := range profiles {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.probeLoop(ctx, p)
		}()
	}
	s.startClients(ctx)
}

// probeLoop asks the server for p's credentials every interval, each time
// on a new connection, as a new client process would.
func (s *soak) probeLoop(ctx context.Context, p profile) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	tick := time.NewTicker(s.o.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.rec.addProbe(s.probeOnce(ctx, client, p))
	}
}

// probeOnce makes one request and checks a 200: the credentials are not
// expired, and (for revocable ones) IAM still has the key.
func (s *soak) probeOnce(ctx context.Context, client *http.Client, p profile) probe {
	pr := probe{at: time.Now(), profile: p.name}
	req, err := http.NewRequestWithContext(ctx, "GET", server.URL(s.serve.Host, p.name), nil)
	if err != nil {
		pr.err = err.Error()
		return pr
	}
	req.Header.Set("Authorization", s.serve.Token)
	resp, err := client.Do(req)
	if err != nil {
		pr.err = err.Error()
		return pr
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	pr.status = resp.StatusCode
	if err != nil {
		pr.err = "read the answer: " + err.Error()
		return pr
	}
	if resp.StatusCode != http.StatusOK {
		pr.err = strings.TrimSpace(string(body))
		return pr
	}
	var doc containerDoc
	if err := json.Unmarshal(body, &doc); err != nil || doc.AccessKeyID == "" {
		pr.err = fmt.Sprintf("a 200 without credentials: %v", err)
		return pr
	}
	s.rec.addSecret(doc.SecretAccessKey)
	s.rec.addSecret(doc.Token)
	pr.key, pr.exp = doc.AccessKeyID, doc.Expiration
	// Expired when asked: the server looked at its clock between the
	// request and the answer, so an Expiration between the two is its due.
	pr.expired = !doc.Expiration.After(pr.at)
	if p.revocable {
		s.checkAlive(ctx, &pr)
	}
	return pr
}

// checkAlive asks moto whom the key belongs to: moto does not know a key
// IAM deleted (Vault revoked the lease, or rotated the static key twice).
func (s *soak) checkAlive(ctx context.Context, pr *probe) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	arn, err := s.bed.KeyIdentity(ctx, pr.key)
	if err != nil {
		if ctx.Err() == nil {
			logf("probe %s: ask moto about the key: %v", pr.profile, err)
		}
		return
	}
	if arn == s.bed.UnknownKeyARN() {
		pr.dead = true
		pr.deadFor = pr.at.Sub(s.rec.markDead(pr.key, pr.at))
	}
}
