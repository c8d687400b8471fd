package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/runbin"
)

// The `serve` rows of make bench: requests to the credentials server beside
// credential_process cache hits, what an SDK pays per credentials fetch
// either way, at the same parallelism and one at a time.

// serveWidth is how many requests run at once.
const serveWidth = 32

// serveResult is what serveRequests measured; latencies sorted.
type serveResult struct {
	errors, vaultRequests int
	served, hits          []int64 // serveWidth at a time
	servedSeq, hitsSeq    []int64 // one at a time
}

// serveRequests starts `serve` on the warm cache and makes vb.hits requests
// serveWidth at a time over keep-alive connections, as SDKs in many
// processes would, counting errors and the credential requests Vault
// logged meanwhile; then as many credential_process cache hits at the same
// width, and both one at a time (vb.cold of each).
func (vb *vaultBench) serveRequests() error {
	get, stop, err := vb.startServe()
	if err != nil {
		return err
	}
	defer stop()
	if err := get(0); err != nil { // a connection warm, and a check that it serves
		return fmt.Errorf("serve: %w", err)
	}
	before := vb.requests()
	var errs []error
	vb.serve.served, errs = timed(vb.hits, serveWidth, get)
	vb.serve.errors, vb.serve.vaultRequests = len(errs), vb.requests()-before
	vb.serve.servedSeq, errs = timed(vb.cold, 1, get)
	vb.serve.errors += len(errs)
	hit := func(int) error { return runQuiet(vb.helper(vb.warmCache())) }
	if vb.serve.hits, errs = timed(vb.hits, serveWidth, hit); len(errs) > 0 {
		return fmt.Errorf("cache hits: %v", errs[0])
	}
	if vb.serve.hitsSeq, errs = timed(vb.cold, 1, hit); len(errs) > 0 {
		return fmt.Errorf("cache hits: %v", errs[0])
	}
	return nil
}

// startServe starts `serve --print-env` for the benchmark's request on the
// warm cache and returns a function making one request (whatever its
// index), and one stopping
// the server (SIGINT, as Ctrl-C).
func (vb *vaultBench) startServe() (get func(int) error, stop func(), err error) {
	srv, err := runbin.StartServe(vb.bin, append(append([]string{}, vb.base...), vb.warmCache()...), nil, vb.args...)
	if err != nil {
		return nil, nil, err
	}
	stop = func() { _ = srv.Stop() }
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: serveWidth}}
	get = func(int) error { return getCredentials(client, srv.URI, srv.Token) }
	return get, stop, nil
}

// getCredentials is one request of the container credentials protocol, as
// an SDK makes it, to serve or pod-agent; anything but 200 with keys is an
// error.
func getCredentials(client *http.Client, url, token string) error {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var doc struct {
		AccessKeyID string `json:"AccessKeyId"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 || doc.AccessKeyID == "" {
		return fmt.Errorf("status %d, %v", resp.StatusCode, err)
	}
	return nil
}

// timed runs fn(0..n-1), width at a time, and returns the sorted latencies
// and the errors.
func timed(n, width int, fn func(i int) error) ([]int64, []error) {
	lat := make([]int64, n)
	errs := parallel(n, width, func(i int) error {
		start := time.Now()
		err := fn(i)
		lat[i] = int64(time.Since(start))
		return err
	})
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, errs
}

func p50(lat []int64) int64 { return lat[len(lat)/2] }
func p99(lat []int64) int64 { return lat[len(lat)*99/100] }

func (vb *vaultBench) printServe() {
	r := vb.serve
	fmt.Printf("\nThe credentials server (`serve`, container credentials protocol) beside credential_process cache hits:\n\n")
	fmt.Printf("| scenario | result | target |\n| --- | --- | --- |\n")
	fmt.Printf("| `serve`: %d requests, %d at a time: errors, Vault requests | %d, %d | 0, 0 |\n", len(r.served), serveWidth, r.errors, r.vaultRequests)
	fmt.Printf("| `serve`: %d requests, %d at a time: p50, p99 | %s, %s | |\n", len(r.served), serveWidth, ms(p50(r.served)), ms(p99(r.served)))
	fmt.Printf("| credential_process cache hits, %d, %d at a time: p50, p99 | %s, %s | |\n", len(r.hits), serveWidth, ms(p50(r.hits)), ms(p99(r.hits)))
	fmt.Printf("| p50 of `serve` vs cache hits, both %d at a time | %.3f× | ≤ 0.1× |\n", serveWidth, float64(p50(r.served))/float64(p50(r.hits)))
	fmt.Printf("| one at a time, %d each: `serve` p50, cache hit p50 | %s, %s (%.3f×) | |\n", len(r.servedSeq), ms(p50(r.servedSeq)), ms(p50(r.hitsSeq)),
		float64(p50(r.servedSeq))/float64(p50(r.hitsSeq)))
	fmt.Printf("| `serve` p50 at %d at a time vs one cache hit alone | %.3f× | |\n", serveWidth, float64(p50(r.served))/float64(p50(r.hitsSeq)))
}
