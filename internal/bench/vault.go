package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// withVault runs the benchmarks that need Vault: a cold miss against one
// raw HTTP request, the 64-process stampede, 1,000 hits at 16-way
// parallelism, the naive `vault` CLI + jq pipeline users write by hand, and
// 1,000 requests to `serve` (serve.go), and pod-agent at 5 and 500
// identities (podagent.go).
// They run against the test bed: a Vault dev server whose AWS engine talks
// to moto, all on 127.0.0.1.
func withVault(dir, bin, floorHTTP string, cold, hits int) error {
	tools, err := testbed.Locate()
	if err != nil {
		fmt.Printf("\nThe Vault benchmarks are skipped: %v\n", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bed, err := testbed.Start(ctx, tools, filepath.Join(dir, "bed"))
	if err != nil {
		return err
	}
	defer bed.Stop()
	vb := &vaultBench{dir: dir, bin: bin, floorHTTP: floorHTTP, vaultCLI: tools.Vault, bed: bed, cold: cold, hits: hits,
		base:      []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "VAULT_ADDR=" + bed.VaultAddr, "VAULT_TOKEN=" + bed.RootToken},
		args:      []string{"--role", testbed.RoleAssume, "--type", "assumed_role"},
		credsPath: testbed.Mount + "/creds/" + testbed.RoleAssume}
	for _, step := range []func() error{vb.coldVsRaw, vb.stampede, vb.warmBatches, vb.parallelHits, vb.naivePipeline, vb.serveRequests,
		vb.podAgentRequests} {
		if err := step(); err != nil {
			return err
		}
	}
	vb.print()
	vb.printServe()
	vb.printPodAgent()
	return nil
}

// stampedeSize is how many cold runs start at once.
const stampedeSize = 64

// vaultBench holds the set-up and the results of the benchmarks against the
// test bed.
type vaultBench struct {
	dir, bin, floorHTTP, vaultCLI string
	bed                           *testbed.Bed
	cold, hits                    int
	base, args                    []string
	credsPath                     string

	missMed, rawMed, batchMed, warmMed int64
	batchRequests                      []int
	hitErrs                            []error
	hitRequests                        int
	lat                                []int64
	naive                              string
	serve                              serveResult
	pod                                []podRow // podagent.go
}

// requests counts the credential requests Vault's audit log holds.
func (vb *vaultBench) requests() int {
	n, err := vb.bed.AuditCount("update", vb.credsPath)
	if err != nil {
		panic(err)
	}
	return n
}

// helper is a run of the binary with the benchmark's request and env.
func (vb *vaultBench) helper(env []string, extra ...string) *exec.Cmd {
	c := exec.Command(vb.bin, append(append([]string{}, vb.args...), extra...)...)
	c.Env = append(append([]string{}, vb.base...), env...)
	return c
}

// coldVsRaw: a cold miss against one raw HTTP request, interleaved.
func (vb *vaultBench) coldVsRaw() error {
	var missWalls, rawWalls []int64
	for i := range vb.cold {
		miss := vb.helper(nil, "--no-cache")
		raw := exec.Command(vb.floorHTTP, vb.credsPath)
		raw.Env = vb.base
		pair := []*exec.Cmd{miss, raw}
		if i%2 == 1 {
			pair[0], pair[1] = raw, miss
		}
		for _, c := range pair {
			d, err := wall(c)
			if err != nil {
				return err
			}
			if c == miss {
				missWalls = append(missWalls, int64(d))
			} else {
				rawWalls = append(rawWalls, int64(d))
			}
		}
	}
	vb.missMed, vb.rawMed = median(missWalls), median(rawWalls)
	return nil
}

// stampede: 64 cold runs at once on an empty cache, five times.
func (vb *vaultBench) stampede() error {
	var batchWalls []int64
	for round := range 5 {
		cacheDir := filepath.Join(vb.dir, fmt.Sprintf("stampede-%d", round))
		before := vb.requests()
		start := time.Now()
		errs := parallel(stampedeSize, stampedeSize, func(int) error {
			return runQuiet(vb.helper([]string{"VAULT_CREDENTIAL_PROCESS_CACHE_DIR=" + cacheDir}))
		})
		batchWalls = append(batchWalls, int64(time.Since(start)))
		vb.batchRequests = append(vb.batchRequests, vb.requests()-before)
		if len(errs) > 0 {
			return fmt.Errorf("stampede: %d of %d runs failed: %v", len(errs), stampedeSize, errs[0])
		}
	}
	vb.batchMed = median(batchWalls)
	return nil
}

// warmCache is the folder of the warm-cache runs.
func (vb *vaultBench) warmCache() []string {
	return []string{"VAULT_CREDENTIAL_PROCESS_CACHE_DIR=" + filepath.Join(vb.dir, "warm")}
}

// warmBatches: the same 64 processes on a warm cache, what starting 64
// processes at once costs on this machine: the stampede's lower bound.
func (vb *vaultBench) warmBatches() error {
	if err := runQuiet(vb.helper(vb.warmCache())); err != nil {
		return err
	}
	var warmWalls []int64
	for range 5 {
		start := time.Now()
		if errs := parallel(stampedeSize, stampedeSize, func(int) error {
			return runQuiet(vb.helper(vb.warmCache()))
		}); len(errs) > 0 {
			return fmt.Errorf("warm batch: %v", errs[0])
		}
		warmWalls = append(warmWalls, int64(time.Since(start)))
	}
	vb.warmMed = median(warmWalls)
	return nil
}

// parallelHits: 1,000 hits, 16 at a time, on the warm cache.
func (vb *vaultBench) parallelHits() error {
	before := vb.requests()
	vb.lat, vb.hitErrs = timed(vb.hits, 16, func(int) error { return runQuiet(vb.helper(vb.warmCache())) })
	vb.hitRequests = vb.requests() - before
	return nil
}

// naivePipeline: the vault CLI piped into jq, no cache (skipped without jq).
func (vb *vaultBench) naivePipeline() error {
	if _, err := exec.LookPath("jq"); err != nil {
		return nil
	}
	script := vb.vaultCLI + ` write -format=json -f ` + vb.credsPath + ` | jq -c '{Version: 1, AccessKeyId: .data.access_key, ` +
		`SecretAccessKey: .data.secret_key, SessionToken: .data.security_token, Expiration: (now + .lease_duration | todate)}'`
	var walls []int64
	for range vb.cold {
		c := exec.Command("sh", "-c", script)
		c.Env = vb.base
		d, err := wall(c)
		if err != nil {
			return fmt.Errorf("naive pipeline: %w", err)
		}
		walls = append(walls, int64(d))
	}
	vb.naive = ms(median(walls))
	return nil
}

func (vb *vaultBench) print() {
	cold, hits, lat := vb.cold, vb.hits, vb.lat
	fmt.Printf("\nAgainst Vault (dev server on 127.0.0.1, AWS engine on moto), assumed_role credentials:\n\n")
	fmt.Printf("| scenario | result | target |\n| --- | --- | --- |\n")
	fmt.Printf("| cold miss (`--no-cache`), median of %d | %s | |\n", cold, ms(vb.missMed))
	fmt.Printf("| one raw HTTP request for the same credentials (a Go process), median of %d | %s | |\n", cold, ms(vb.rawMed))
	fmt.Printf("| cold miss vs raw request | %.2f× | ≤ 1.1× |\n", float64(vb.missMed)/float64(vb.rawMed))
	fmt.Printf("| stampede: %d cold runs at once, Vault credential requests per batch (5 batches) | %s | 1 |\n", stampedeSize, ints(vb.batchRequests))
	fmt.Printf("| stampede: wall time of the batch (median) vs one cold run | %s, %.2f× | ≤ 1.5× |\n", ms(vb.batchMed), float64(vb.batchMed)/float64(vb.missMed))
	fmt.Printf("| the same %d runs at once on a warm cache (process start-up alone) | %s | |\n", stampedeSize, ms(vb.warmMed))
	fmt.Printf("| %d hits, 16 at a time: errors, Vault requests | %d, %d | 0, 0 |\n", hits, len(vb.hitErrs), vb.hitRequests)
	fmt.Printf("| %d hits, 16 at a time: p50, p99 | %s, %s | |\n", hits, ms(p50(lat)), ms(p99(lat)))
	if vb.naive != "" {
		fmt.Printf("| naive `vault write ... \\| jq` per call, no cache, median of %d | %s | |\n", cold, vb.naive)
	}
}

// parallel runs fn(0..n-1) with at most width at once and returns the errors.
func parallel(n, width int, fn func(int) error) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, width)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

func runQuiet(c *exec.Cmd) error {
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func ms(d int64) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
