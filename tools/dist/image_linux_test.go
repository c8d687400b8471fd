package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// testRevision is the commit the test image names in its labels.
const testRevision = "0123456789abcdef0123456789abcdef01234567"

// TestImage builds the release binaries of the linux platforms from this
// commit, their archives, and the container image twice: from copies of
// the binaries with other modes and times, in another time zone and
// umask. The two image files must be byte-identical (so the digest is
// the same); the image read back with the standard library must be what
// tools/dist asked for, each platform's one layer holding exactly the
// binary of that platform's archive, and skopeo must copy it keeping its
// digest. Then the binary runs from the unpacked layer (TestImage's
// subtests, as root).
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release binaries and tools/ociimage")
	}
	t.Chdir("../..")
	o := &options{version: "v9.8.7", revision: testRevision, epoch: testEpoch, goCmd: "go"}
	work := t.TempDir()
	bins := map[string]string{}
	out := t.TempDir()
	for _, p := range linuxPlatforms() {
		bins[p] = filepath.Join(work, strings.ReplaceAll(p, "/", "_"), program)
		if err := o.build("linux", strings.TrimPrefix(p, "linux/"), bins[p]); err != nil {
			t.Fatal(err)
		}
		if err := o.writeArchive(out, p, bins[p], testDocs); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(out, imageName(o.version))
	if err := o.writeImage(work, file, bins); err != nil {
		t.Fatal(err)
	}
	first := readFile(t, file)
	if again := imageAgain(t, o, bins); !bytes.Equal(first, again) {
		t.Fatalf("two builds of the image differ (digests %s and %s)",
			readImage(t, first, o.version).digest, readImage(t, again, o.version).digest)
	}
	img := readImage(t, first, o.version)
	checkImage(t, o, img)
	for _, p := range linuxPlatforms() {
		inArchive := readArchive(t, "tar.gz", readFile(t, filepath.Join(out, archiveName(o.version, p))))
		i := slices.IndexFunc(inArchive, func(e archived) bool { return strings.HasSuffix(e.name, "/"+program) })
		if i < 0 {
			t.Fatalf("%s: no binary in the archive", p)
		}
		if got := img.platforms[p].files[program].data; !bytes.Equal(got, inArchive[i].data) {
			t.Errorf("%s: the image's binary (%d bytes) is not the archive's (%d bytes)", p, len(got), len(inArchive[i].data))
		}
	}
	checkSkopeo(t, file, img.digest)
	t.Run("version", func(t *testing.T) { testImageVersion(t, img) })
	t.Run("pod-agent", func(t *testing.T) { testImagePodAgent(t, img) })
	t.Run("port 80", func(t *testing.T) { testImagePort80(t, img) })
}

func linuxPlatforms() []string {
	var out []string
	for _, p := range platforms {
		if strings.HasPrefix(p, "linux/") {
			out = append(out, p)
		}
	}
	return out
}

// imageAgain builds the image again from copies of bins that are
// private, dated now and in another folder, with umask 077 and in
// another time zone, and returns its bytes.
func imageAgain(t *testing.T, o *options, bins map[string]string) []byte {
	t.Helper()
	work := t.TempDir()
	copies := map[string]string{}
	for p, bin := range bins {
		copies[p] = filepath.Join(work, "elsewhere", strings.ReplaceAll(p, "/", "-"))
		if err := os.MkdirAll(filepath.Dir(copies[p]), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(copies[p], readFile(t, bin), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TZ", "Pacific/Chatham")
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	file := filepath.Join(work, "image.tar")
	if err := o.writeImage(work, file, copies); err != nil {
		t.Fatal(err)
	}
	return readFile(t, file)
}

// checkImage checks the index, each platform's manifest and
// configuration, and its layer's entries against what writeImage asks
// for.
func checkImage(t *testing.T, o *options, img *ociImage) {
	t.Helper()
	labels := o.imageLabels()
	if labels["org.opencontainers.image.revision"] != testRevision ||
		labels["org.opencontainers.image.created"] != "2025-11-30T05:20:00Z" {
		t.Errorf("labels %v", labels)
	}
	if !maps.Equal(img.annotations, labels) {
		t.Errorf("index annotations %v, want %v", img.annotations, labels)
	}
	if got := slices.Sorted(maps.Keys(img.platforms)); !slices.Equal(got, linuxPlatforms()) {
		t.Fatalf("platforms %q, want %q", got, linuxPlatforms())
	}
	for p, pi := range img.platforms {
		c := pi.config
		want := ociRunConfig{Entrypoint: []string{"/" + program}, Cmd: []string{"pod-agent", "--config", "/etc/vcp/agent.toml"},
			User: "65532:65532", Labels: labels}
		if got, _ := json.Marshal(c.Config); string(got) != string(must(json.Marshal(want))) {
			t.Errorf("%s: config %s, want %s", p, got, must(json.Marshal(want)))
		}
		if c.OS+"/"+c.Architecture != p || c.Created != "2025-11-30T05:20:00Z" || len(c.History) != 1 ||
			c.History[0].Created != c.Created || !maps.Equal(pi.annotations, labels) {
			t.Errorf("%s: os/arch %s/%s, created %s, history %v, annotations %v", p, c.OS, c.Architecture, c.Created,
				c.History, pi.annotations)
		}
		checkLayer(t, p, pi)
	}
}

// checkLayer checks that the layer holds the binary and the CA
// certificates and their folders, and nothing else, owned by root,
// dated at the epoch, with fixed modes; and that the CA certificates are
// Mozilla's roots, among them those of Let's Encrypt and Amazon.
func checkLayer(t *testing.T, platform string, pi ociPlatform) {
	t.Helper()
	const roots = "etc/ssl/certs/ca-certificates.crt"
	want := map[string]int64{"etc/": 0o755, "etc/ssl/": 0o755, "etc/ssl/certs/": 0o755, roots: 0o644, program: 0o755}
	if got := slices.Sorted(maps.Keys(pi.files)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Errorf("%s: the layer holds %q", platform, got)
	}
	for name, f := range pi.files {
		h := f.hdr
		if h.Mode != want[name] || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != testEpoch {
			t.Errorf("%s: %s: mode %o, owner %d:%d (%q:%q), time %v", platform, name, h.Mode, h.Uid, h.Gid, h.Uname,
				h.Gname, h.ModTime)
		}
	}
	rest, n := pi.files[roots].data, 0
	subjects := ""
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil || b.Type != "CERTIFICATE" {
			t.Fatalf("%s: %s: block %d (%s): %v", platform, roots, n, b.Type, err)
		}
		subjects += c.Subject.CommonName + "\n"
		n++
	}
	if n < 100 || len(bytes.TrimSpace(rest)) != 0 || !strings.Contains(subjects, "ISRG Root X1\n") ||
		!strings.Contains(subjects, "Amazon Root CA 1\n") {
		t.Errorf("%s: %s: %d certificates (%q left over):\n%s", platform, roots, n, rest, subjects)
	}
}

// checkSkopeo copies the image with skopeo (containers/image, the
// library of podman and cri-o) into an OCI folder, refusing any change of
// digest, and checks the copy has the image's digest. Without skopeo the
// test says so, except in CI, where .ci/run installs it.
func checkSkopeo(t *testing.T, file, digest string) {
	t.Helper()
	if _, err := exec.LookPath("skopeo"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("skopeo is missing (apt-get install skopeo): %v", err)
		}
		t.Log("no skopeo here: the copy is checked in CI")
		return
	}
	dir := filepath.Join(t.TempDir(), "copy")
	run(t, "skopeo", "--insecure-policy", "copy", "--quiet", "--all", "--preserve-digests",
		"oci-archive:"+file, "oci:"+dir+":copied")
	var index ociIndex
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "index.json")), &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Digest != digest {
		t.Errorf("skopeo's copy: %+v, want the digest %s", index.Manifests, digest)
	}
}

// unpacked writes the layer of this machine's platform into a new
// folder, as a container runtime would, for the binary to run in a
// chroot. It needs root (CI runs as root); elsewhere the test skips.
func unpacked(t *testing.T, img *ociImage) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: running the image's binary in a chroot needs root")
		}
		t.Skip("runs the image's binary in a chroot: needs root")
	}
	pi, ok := img.platforms["linux/"+runtime.GOARCH]
	if !ok {
		t.Skipf("no image for linux/%s", runtime.GOARCH)
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(pi.files)) { // a folder before what it holds
		f := pi.files[name]
		p := filepath.Join(root, filepath.FromSlash(name))
		var err error
		if f.hdr.Typeflag == tar.TypeDir {
			err = os.Mkdir(p, os.FileMode(f.hdr.Mode))
		} else {
			err = os.WriteFile(p, f.data, os.FileMode(f.hdr.Mode))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// inImage is a command that runs args in the chroot root as the image's
// user, in a network namespace of its own when isolated.
func inImage(root string, isolated bool, args ...string) *exec.Cmd {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = []string{}
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
	if isolated {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
	}
	return cmd
}

// testImageVersion: the image's binary runs, as its unprivileged user,
// in a root that holds nothing but the layer, with no network.
func testImageVersion(t *testing.T, img *ociImage) {
	root := unpacked(t, img)
	out, err := inImage(root, true, "/"+program, "version").CombinedOutput()
	// The commit is there when the build saw one (a clone does; a
	// worktree may not).
	want := regexp.MustCompile(`^` + program + ` v9\.8\.7 \((commit [0-9a-f]+, )?go1\.`)
	if err != nil || !want.Match(out) {
		t.Fatalf("%s version in the image: %q, %v", program, out, err)
	}
}

// testImagePodAgent runs the image's entrypoint and command, the node
// agent as the DaemonSet runs it, as the image's user in a root holding
// the layer and the mounted configuration, listening on a loopback port.
// Vault (a stand-in answering sys/health) has a certificate of its own
// CA, which the agent trusts through VAULT_CACERT: /healthz says ready
// only when the https request to Vault succeeded.
func testImagePodAgent(t *testing.T, img *ociImage) {
	root := unpacked(t, img)
	vault := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/sys/health" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"initialized":true,"sealed":false,"standby":false}`)
	}))
	defer vault.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vault.Certificate().Raw})
	config := "[default]\nauth_role = \"pods\"\naws_role = \"pods\"\n"
	if err := os.Mkdir(filepath.Join(root, "etc/vcp"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"agent.toml": []byte(config), "vault-ca.pem": ca} {
		if err := os.WriteFile(filepath.Join(root, "etc/vcp", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := img.platforms["linux/"+runtime.GOARCH].config.Config
	cmd := inImage(root, false, slices.Concat(c.Entrypoint, c.Cmd, []string{"--listen", "127.0.0.1:0"})...)
	cmd.Env = []string{"VAULT_ADDR=" + vault.URL, "VAULT_CACERT=/etc/vcp/vault-ca.pem"}
	addr, wait := startAgent(t, cmd)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ready"`) {
		t.Errorf("/healthz of the agent in the image: %d %s", resp.StatusCode, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if log, err := wait(); err != nil {
		t.Errorf("the agent after SIGTERM: %v\n%s", err, log)
	}
}

// testImagePort80: what the DaemonSet's securityContext must be for the
// agent to listen on port 80 as EKS's does. Kubernetes puts an added
// capability in the bounding and inheritable sets only, never the ambient
// one, so the image's user 65532 with NET_BIND_SERVICE "added" cannot
// bind port 80; root with every capability dropped but NET_BIND_SERVICE,
// and no privilege escalation, can. Each runs the image's binary in a
// network namespace of its own (unshare), its capabilities set by
// setpriv(1) as a container runtime would set them.
func testImagePort80(t *testing.T, img *ociImage) {
	root := unpacked(t, img)
	for _, tool := range []string{"unshare", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s (util-linux) is missing: %v", tool, err)
		}
	}
	// Not in a chroot: 65532 must pass through the test's own folder.
	if err := os.Chmod(filepath.Dir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(root, "agent.toml")
	if err := os.WriteFile(config, []byte("[default]\nauth_role = \"pods\"\naws_role = \"pods\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := func(user ...string) *exec.Cmd {
		args := slices.Concat([]string{"-n", "setpriv"}, user, []string{"--bounding-set", "-all,+net_bind_service",
			"--no-new-privs", filepath.Join(root, program), "pod-agent", "--config", config, "--listen", "127.0.0.1:80"})
		cmd := exec.Command("unshare", args...)
		cmd.Env = []string{"VAULT_ADDR=http://127.0.0.1:1"} // never asked: no pod calls
		return cmd
	}
	out, err := agent("--reuid", "65532", "--regid", "65532", "--clear-groups", "--inh-caps", "-all,+net_bind_service").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bind: permission denied") {
		t.Errorf("as 65532 with NET_BIND_SERVICE not ambient, the agent on port 80: %v\n%s", err, out)
	}
	cmd := agent("--inh-caps", "-all")
	addr, wait := startAgent(t, cmd)
	if addr != "127.0.0.1:80" {
		t.Errorf("as root with only NET_BIND_SERVICE, the agent listens on %s", addr)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if log, err := wait(); err != nil {
		t.Errorf("the agent after SIGTERM: %v\n%s", err, log)
	}
}

// startAgent starts cmd (pod-agent) and reads its log until it says
// where it listens; it returns that address and a function that waits
// for the agent's end and returns its whole log.
func startAgent(t *testing.T, cmd *exec.Cmd) (string, func() (string, error)) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	addr := ""
	for addr == "" && sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if _, rest, ok := strings.Cut(sc.Text(), "listening on http://"); ok {
			addr, _, _ = strings.Cut(rest, "/")
		}
	}
	if addr == "" {
		cmd.Wait()
		t.Fatalf("the agent in the image never listened:\n%s", log.String())
	}
	done := make(chan struct{})
	go func() {
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
		}
		close(done)
	}()
	return addr, func() (string, error) {
		<-done
		err := cmd.Wait()
		return log.String(), err
	}
}

// must returns v, or panics on err.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
