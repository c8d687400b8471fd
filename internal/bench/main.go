// Command bench measures a cache hit of the real binary against a floor: a
// tiny Go program that reads a 1 KB file and writes it to stdout, the least
// any credential_process helper that reads a cache can cost. A third
// program, the floor with vault/api linked in, shows what the start-up of
// vault/api's packages costs on its own. Runs are interleaved so that
// machine noise falls on all alike; it prints a Markdown table of medians.
// `make bench` runs it.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vault-credential-process/vault-credential-process/cache"
	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/runbin"
	"github.com/vault-credential-process/vault-credential-process/process"
)

func main() {
	runs := flag.Int("runs", 300, "interleaved runs of each program for the cache-hit table")
	cold := flag.Int("cold", 40, "interleaved runs of each program for the cold-miss table")
	hits := flag.Int("hits", 1000, "cache hits for the parallel-hits row")
	vault := flag.Bool("vault", true, "also run the benchmarks that need Vault and moto (the test bed)")
	flag.Parse()
	if err := run(*runs, *cold, *hits, *vault); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(runs, cold, hits int, vault bool) error {
	dir, err := os.MkdirTemp("", "vcp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "vault-credential-process")
	floor := filepath.Join(dir, "floor")
	floorVault := filepath.Join(dir, "floorvault")
	floorHTTP := filepath.Join(dir, "floorhttp")
	for pkg, out := range map[string]string{".": bin, "./internal/bench/floor": floor,
		"./internal/bench/floorvault": floorVault, "./internal/bench/floorhttp": floorHTTP} {
		if err := runbin.Build("", pkg, out); err != nil {
			return err
		}
	}
	if err := hitVsFloor(dir, bin, floor, floorVault, runs); err != nil {
		return err
	}
	if !vault {
		return nil
	}
	return withVault(dir, bin, floorHTTP, cold, hits)
}

// hitVsFloor is the cache-hit table; it needs no Vault: the entry is
// written where the binary will look for it.
func hitVsFloor(dir, bin, floor, floorVault string, runs int) error {
	// A fresh cache entry, written where the binary will look for it.
	env := append(os.Environ(), "HOME="+dir, "XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "VAULT_ADDR=http://127.0.0.1:1")
	args := []string{"--role", "bench", "--type", "assumed_role"}
	// The same hit with jwt auth, whose key includes who the JWT names: the
	// hit reads and decodes the token file (issue 10).
	jwtFile := filepath.Join(dir, "ci.jwt")
	if err := os.WriteFile(jwtFile, []byte(benchJWT()), 0o600); err != nil {
		return err
	}
	jwtEnv := append(append([]string(nil), env...), "VAULT_CREDENTIAL_PROCESS_AUTH_METHOD=jwt",
		"VAULT_CREDENTIAL_PROCESS_AUTH_ROLE=ci", "VAULT_CREDENTIAL_PROCESS_AUTH_JWT_FILE="+jwtFile)
	entry, err := seedHitEntries(args, env, jwtEnv)
	if err != nil {
		return err
	}
	doc := filepath.Join(dir, "doc.json")
	if err := os.WriteFile(doc, bytes.Repeat([]byte("x"), 1024), 0o600); err != nil {
		return err
	}

	programs := []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"floor (read a 1 KB file, write it)", func() *exec.Cmd { return exec.Command(floor, doc) }},
		{"floor with vault/api linked in", func() *exec.Cmd { return exec.Command(floorVault, doc) }},
		{"vault-credential-process, cache hit", func() *exec.Cmd {
			c := exec.Command(bin, args...)
			c.Env = env
			return c
		}},
		{"vault-credential-process, cache hit with jwt auth (jwt_file read and decoded)", func() *exec.Cmd {
			c := exec.Command(bin, args...)
			c.Env = jwtEnv
			return c
		}},
	}
	hit := programs[2].cmd

	// Warm up the page cache, and check that each hit is a hit.
	for _, p := range programs[2:] {
		out, err := p.cmd().Output()
		if err != nil || !bytes.Contains(out, []byte(entry.AccessKeyID)) {
			return fmt.Errorf("%s: the binary did not serve the cached entry: %v: %s", p.name, err, out)
		}
	}
	walls := make([][]int64, len(programs))
	for i := range runs {
		// Rotate the order so no program always runs first.
		for j := range programs {
			k := (i + j) % len(programs)
			d, err := wall(programs[k].cmd())
			if err != nil {
				return err
			}
			walls[k] = append(walls[k], int64(d))
		}
	}
	rss := make([]string, len(programs))
	for k, p := range programs {
		rss[k] = peakRSS(p.cmd, 21)
	}
	floorWall := median(walls[0])
	fmt.Printf("Cache hit vs floor, %d interleaved runs each; medians; peak RSS by /usr/bin/time over 21 runs:\n\n", runs)
	fmt.Printf("| program | wall time | vs floor | peak RSS |\n| --- | --- | --- | --- |\n")
	for k, p := range programs {
		w := median(walls[k])
		fmt.Printf("| %s | %s | %.2f× | %s |\n", p.name, time.Duration(w).Round(time.Microsecond), float64(w)/float64(floorWall), rss[k])
	}
	initTime, err := inits(hit())
	if err != nil {
		return err
	}
	fmt.Printf("\nPackage initialisation of the binary (GODEBUG=inittrace=1, one run): %s in all.\n", initTime)
	return nil
}

// seedHitEntries writes a fresh entry for args under each environment, where
// the binary will look for it, and returns it.
func seedHitEntries(args []string, envs ...[]string) (*cache.Entry, error) {
	now := time.Now()
	entry := &cache.Entry{AccessKeyID: "ASIABENCHMARKEXAMPLE", SecretAccessKey: strings.Repeat("s", 40),
		SessionToken: strings.Repeat("t", 600), Expiration: now.Add(12 * time.Hour), IssuedAt: now,
		Source: string(process.SourceVault), Request: json.RawMessage(`{"role":"bench"}`)}
	for _, e := range envs {
		key, cacheDir, err := entryKey(e, args)
		if err != nil {
			return nil, err
		}
		store, err := cache.Open(cacheDir)
		if err != nil {
			return nil, err
		}
		if err := store.Save(key, entry); err != nil {
			return nil, err
		}
	}
	return entry, nil
}

// entryKey resolves args the way the binary does and returns the cache key
// and folder it will use.
func entryKey(env, args []string) (key, dir string, err error) {
	getenv := func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], name+"="); ok {
				return v
			}
		}
		return ""
	}
	flags := &config.Flags{}
	for i := 0; i+1 < len(args); i += 2 {
		name := strings.TrimPrefix(args[i], "--")
		id := slices.IndexFunc(config.Table[:], func(s config.Setting) bool { return s.Name == name })
		if id < 0 {
			return "", "", fmt.Errorf("entryKey: %s is no request flag", args[i])
		}
		flags[id] = args[i+1]
	}
	s, err := config.Resolve(config.Inputs{Flags: flags, Getenv: getenv})
	if err != nil {
		return "", "", err
	}
	key, err = (&process.Runner{Settings: s, Getenv: os.Getenv}).Key()
	return key, s.CacheDir, err
}

// benchJWT is a JWT as CI systems hand out, with a signature nobody checks
// on a cache hit.
func benchJWT() string {
	enc := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	return enc(`{"alg":"RS256","typ":"JWT","kid":"bench"}`) + "." +
		enc(`{"iss":"https://ci.example.com","sub":"repo:org/app:ref:refs/heads/main","aud":"vault","iat":1700000000,"exp":4102444800,"jti":"bench"}`) +
		"." + enc(strings.Repeat("s", 256))
}

func wall(c *exec.Cmd) (time.Duration, error) {
	start := time.Now()
	if err := c.Run(); err != nil {
		return 0, fmt.Errorf("%s: %w", c.Path, err)
	}
	return time.Since(start), nil
}

func median(v []int64) int64 {
	v = append([]int64(nil), v...)
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return v[len(v)/2]
}

// peakRSS is the median peak RSS of n runs, as GNU time reports it. The
// rusage Go gets from wait4 is no use here: Go starts children with
// CLONE_VM, so their peak includes the parent's memory before exec.
func peakRSS(cmd func() *exec.Cmd, n int) string {
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		return "n/a (no /usr/bin/time)"
	}
	var kib []int64
	for range n {
		c := cmd()
		t := exec.Command("/usr/bin/time", append([]string{"-f", "%M", c.Path}, c.Args[1:]...)...)
		t.Env = c.Env
		var stderr bytes.Buffer
		t.Stderr = &stderr
		if err := t.Run(); err != nil {
			return "n/a (" + err.Error() + ")"
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		v, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
		if err != nil {
			return "n/a"
		}
		kib = append(kib, v)
	}
	return strconv.FormatInt(median(kib), 10) + " KiB"
}

var initLine = regexp.MustCompile(`init \S+ @\S+ ms, ([0-9.]+) ms clock`)

// inits sums the clock time of package initialisation in one run.
func inits(c *exec.Cmd) (time.Duration, error) {
	c.Env = append(c.Env, "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return 0, err
	}
	var total float64
	for _, m := range initLine.FindAllStringSubmatch(stderr.String(), -1) {
		ms, _ := strconv.ParseFloat(m[1], 64)
		total += ms
	}
	return time.Duration(total * float64(time.Millisecond)), nil
}
