package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testbed"
)

// withVault runs the benchmarks that need Vault: a cold miss against one
// raw HTTP request, the 64-process stampede, 1,000 hits at 16-way
// parallelism, and the naive `vault` CLI + jq pipeline users write by hand.
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

	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "VAULT_ADDR=" + bed.VaultAddr, "VAULT_TOKEN=" + bed.RootToken}
	args := []string{"--role", testbed.RoleAssume, "--type", "assumed_role"}
	credsPath := testbed.Mount + "/creds/" + testbed.RoleAssume
	requests := func() int {
		n, err := bed.AuditCount("update", credsPath)
		if err != nil {
			panic(err)
		}
		return n
	}
	helper := func(env []string, extra ...string) *exec.Cmd {
		c := exec.Command(bin, append(append([]string{}, args...), extra...)...)
		c.Env = append(append([]string{}, base...), env...)
		return c
	}

	// 2. Cold miss vs one raw HTTP request, interleaved.
	var missWalls, rawWalls []int64
	for i := range cold {
		miss := helper(nil, "--no-cache")
		raw := exec.Command(floorHTTP, credsPath)
		raw.Env = base
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
	missMed, rawMed := median(missWalls), median(rawWalls)

	// 3. Stampede: 64 cold runs at once on an empty cache, five times.
	const stampede = 64
	var batchWalls []int64
	var batchRequests []int
	for round := range 5 {
		cacheDir := filepath.Join(dir, fmt.Sprintf("stampede-%d", round))
		before := requests()
		start := time.Now()
		errs := parallel(stampede, stampede, func(int) error {
			return runQuiet(helper([]string{"VAULT_CREDENTIAL_PROCESS_CACHE_DIR=" + cacheDir}))
		})
		batchWalls = append(batchWalls, int64(time.Since(start)))
		batchRequests = append(batchRequests, requests()-before)
		if len(errs) > 0 {
			return fmt.Errorf("stampede: %d of %d runs failed: %v", len(errs), stampede, errs[0])
		}
	}
	batchMed := median(batchWalls)

	// The same 64 processes on a warm cache: what starting 64 processes at
	// once costs on this machine, the stampede's lower bound.
	warm := filepath.Join(dir, "warm")
	if err := runQuiet(helper([]string{"VAULT_CREDENTIAL_PROCESS_CACHE_DIR=" + warm})); err != nil {
		return err
	}
	var warmWalls []int64
	for range 5 {
		start := time.Now()
		if errs := parallel(stampede, stampede, func(int) error {
			return runQuiet(helper([]string{"VAULT_CREDENTIAL_PROCESS_CACHE_DIR=" + warm}))
		}); len(errs) > 0 {
			return fmt.Errorf("warm batch: %v", errs[0])
		}
		warmWalls = append(warmWalls, int64(time.Since(start)))
	}
	warmMed := median(warmWalls)

	// 4. 1,000 hits, 16 at a time, on a warm cache.
	before := requests()
	lat := make([]int64, hits)
	hitErrs := parallel(hits, 16, func(i int) error {
		start := time.Now()
		err := runQuiet(helper([]string{"VAULT_CREDENTIAL_PROCESS_CACHE_DIR=" + warm}))
		lat[i] = int64(time.Since(start))
		return err
	})
	hitRequests := requests() - before
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })

	// 5. The naive approach: the vault CLI piped into jq, no cache.
	naive := ""
	if _, err := exec.LookPath("jq"); err == nil {
		script := tools.Vault + ` write -format=json -f ` + credsPath + ` | jq -c '{Version: 1, AccessKeyId: .data.access_key, ` +
			`SecretAccessKey: .data.secret_key, SessionToken: .data.security_token, Expiration: (now + .lease_duration | todate)}'`
		var walls []int64
		for range cold {
			c := exec.Command("sh", "-c", script)
			c.Env = base
			d, err := wall(c)
			if err != nil {
				return fmt.Errorf("naive pipeline: %w", err)
			}
			walls = append(walls, int64(d))
		}
		naive = ms(median(walls))
	}

	fmt.Printf("\nAgainst Vault (dev server on 127.0.0.1, AWS engine on moto), assumed_role credentials:\n\n")
	fmt.Printf("| scenario | result | target |\n| --- | --- | --- |\n")
	fmt.Printf("| cold miss (`--no-cache`), median of %d | %s | |\n", cold, ms(missMed))
	fmt.Printf("| one raw HTTP request for the same credentials (a Go process), median of %d | %s | |\n", cold, ms(rawMed))
	fmt.Printf("| cold miss vs raw request | %.2f× | ≤ 1.1× |\n", float64(missMed)/float64(rawMed))
	fmt.Printf("| stampede: %d cold runs at once, Vault credential requests per batch (5 batches) | %s | 1 |\n", stampede, ints(batchRequests))
	fmt.Printf("| stampede: wall time of the batch (median) vs one cold run | %s, %.2f× | ≤ 1.5× |\n", ms(batchMed), float64(batchMed)/float64(missMed))
	fmt.Printf("| the same %d runs at once on a warm cache (process start-up alone) | %s | |\n", stampede, ms(warmMed))
	fmt.Printf("| %d hits, 16 at a time: errors, Vault requests | %d, %d | 0, 0 |\n", hits, len(hitErrs), hitRequests)
	fmt.Printf("| %d hits, 16 at a time: p50, p99 | %s, %s | |\n", hits, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]))
	if naive != "" {
		fmt.Printf("| naive `vault write ... \\| jq` per call, no cache, median of %d | %s | |\n", cold, naive)
	}
	return nil
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
