package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestPackageInstall installs the .deb of this commit on the machine as a
// user would (dpkg -i), checks that the binary runs from /usr/bin and that
// bash-completion, zsh and fish find its completions (and man finds the
// man page when there is one), then removes it (dpkg -r) and checks that
// nothing it brought is left. The .rpm of the same build is read with
// rpm -qlp and rpm -qip: the same files, zsh's folder aside, and the same
// metadata. It changes the machine, so it runs only in CI (CI=true, as
// root); there it fails, rather than skips, when a tool is missing.
func TestPackageInstall(t *testing.T) {
	if os.Getenv("CI") != "true" {
		t.Skip("installs a package on this machine: runs in CI only (CI=true, as root)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("CI=true: this test installs a .deb and must run as root")
	}
	for _, tool := range []string{"dpkg", "dpkg-query", "rpm", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing (Debian: apt-get install rpm for rpm(8)): %v", tool, err)
		}
	}
	if _, err := os.Stat("/usr/share/bash-completion/bash_completion"); err != nil {
		t.Fatalf("bash-completion is missing (apt-get install bash-completion): %v", err)
	}
	t.Chdir("../..")
	o := &options{version: "v9.8.7", epoch: testEpoch, goCmd: "go"}
	work := t.TempDir()
	bin := filepath.Join(work, program)
	if err := o.build(runtime.GOOS, runtime.GOARCH, bin); err != nil {
		t.Fatal(err)
	}
	docs, err := readDocs("README.md", "LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	man, err := readMan()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := readPages(docsFolder)
	if err != nil {
		t.Fatal(err)
	}
	d := docSet{man: man != nil}
	for _, p := range pages {
		d.pages = append(d.pages, p.Name)
	}
	shared := filepath.Join(work, "shared")
	if err := writeShared(shared, bin, slices.Concat(docs, pages), man); err != nil {
		t.Fatal(err)
	}
	pkgs := testPackages(t, o, runtime.GOARCH, bin, shared, d)
	rpmArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	checkRPM(t, pkgs["rpm"], packageFiles("rpm", "", "", d), "9.8.7", rpmArch)
	checkRPMInfo(t, pkgs["rpm"], "9.8.7", rpmArch)
	installed := installDeb(t, pkgs["deb"], packageFiles("deb", "", "", d))
	checkInstalled(t, man != nil)
	removeDeb(t, installed)
}

// checkRPMInfo checks what rpm -qip shows a user: the -qlp list is
// checkRPM's.
func checkRPMInfo(t *testing.T, p, version, arch string) {
	t.Helper()
	out := run(t, "rpm", "-qip", p)
	for _, want := range [][2]string{{"Name", program}, {"Version", version}, {"Release", "1"},
		{"Architecture", arch}, {"License", license}, {"URL", homepage}, {"Summary", summary},
		{"Build Host", "reproducible"}, {"Packager", maintainer}} {
		if !slices.ContainsFunc(strings.Split(out, "\n"), func(line string) bool {
			k, v, ok := strings.Cut(line, ":")
			return ok && strings.TrimSpace(k) == want[0] && strings.TrimSpace(v) == want[1]
		}) {
			t.Errorf("rpm -qip shows no %s: %s in\n%s", want[0], want[1], out)
		}
	}
	list := strings.Fields(run(t, "rpm", "-qlp", p))
	if !slices.Contains(list, "/usr/bin/"+program) || !slices.Contains(list, "/usr/share/zsh/site-functions/_"+program) {
		t.Errorf("rpm -qlp:\n%s", strings.Join(list, "\n"))
	}
}

// installDeb refuses to touch a machine that has the helper already, then
// installs deb and checks that dpkg lists every file of want. It returns
// what dpkg -L listed that did not exist before, which removal must take
// away again.
func installDeb(t *testing.T, deb string, want []pkgFile) []string {
	t.Helper()
	if out, err := exec.Command("dpkg-query", "-W", program).CombinedOutput(); err == nil {
		t.Fatalf("%s is installed already; this test would remove it:\n%s", program, out)
	}
	var before []string
	for _, f := range want {
		if _, err := os.Lstat(f.Dst); err == nil && f.Type != "dir" {
			t.Fatalf("%s exists already; this test would overwrite it", f.Dst)
		}
		for p := f.Dst; p != "/"; p = filepath.Dir(p) {
			if _, err := os.Lstat(p); err == nil {
				before = append(before, p)
			}
		}
	}
	run(t, "dpkg", "-i", deb)
	t.Cleanup(func() {
		if exec.Command("dpkg-query", "-W", program).Run() == nil {
			exec.Command("dpkg", "--purge", program).Run()
		}
	})
	listed := strings.Fields(run(t, "dpkg", "-L", program))
	for _, f := range want {
		if !slices.Contains(listed, f.Dst) {
			t.Errorf("dpkg -L does not list %s:\n%s", f.Dst, strings.Join(listed, "\n"))
		}
	}
	var added []string
	for _, p := range listed {
		if p != "/." && !slices.Contains(before, p) {
			added = append(added, p)
		}
	}
	return added
}

// checkInstalled runs what the package installed as a user's shells do.
func checkInstalled(t *testing.T, hasMan bool) {
	t.Helper()
	if out := run(t, "/usr/bin/"+program, "version"); !strings.HasPrefix(out, program+" v9.8.7 ") {
		t.Errorf("/usr/bin/%s version: %q", program, out)
	}
	// bash-completion loads a command's script on first use, from its
	// completions folder; then the function completes a command name.
	const bash = `source /usr/share/bash-completion/bash_completion || exit 1
_completion_loader vault-credential-process
complete -p vault-credential-process || exit 1
COMP_WORDS=(vault-credential-process vers) COMP_CWORD=1 COMP_LINE="vault-credential-process vers" COMP_POINT=29
_vault_credential_process vault-credential-process vers vault-credential-process
printf 'reply:%s\n' "${COMPREPLY[@]}"`
	out := run(t, "bash", "--norc", "--noprofile", "-c", bash)
	if !strings.Contains(out, "complete -F _vault_credential_process vault-credential-process\n") ||
		!strings.Contains(out, "reply:version\n") {
		t.Errorf("bash-completion did not load the script:\n%s", out)
	}
	home := t.TempDir()
	if _, err := exec.LookPath("zsh"); err == nil {
		// compinit reads the #compdef line of every file on zsh's default fpath.
		out := run(t, "zsh", "-f", "-c", `autoload -U compinit && compinit -u -d "$1" && print -r -- "${_comps[vault-credential-process]}"`,
			"zsh", filepath.Join(home, "zcompdump"))
		if strings.TrimSpace(out) != "_vault-credential-process" {
			t.Errorf("zsh's compinit found %q for vault-credential-process", out)
		}
	}
	if _, err := exec.LookPath("fish"); err == nil {
		cmd := exec.Command("fish", "-c", "complete -C 'vault-credential-process vers'")
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_DATA_HOME="+home)
		if out, err := cmd.CombinedOutput(); err != nil || !slices.Contains(strings.Fields(string(out)), "version") {
			t.Errorf("fish completes %q, %v", out, err)
		}
	}
	if hasMan {
		if out := run(t, "man", "-w", program); strings.TrimSpace(out) != "/usr/share/man/man1/"+program+".1.gz" {
			t.Errorf("man -w %s: %q", program, out)
		}
	}
}

// removeDeb removes the package and checks that dpkg forgot it and that
// every path it added is gone.
func removeDeb(t *testing.T, added []string) {
	t.Helper()
	run(t, "dpkg", "-r", program)
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Status}", program).CombinedOutput(); err == nil &&
		string(out) != "not-installed" {
		t.Errorf("after dpkg -r, dpkg-query says %q", out)
	}
	if len(added) == 0 {
		t.Fatal("the package added nothing, so its removal proves nothing")
	}
	for _, p := range added {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after dpkg -r, %s is left (%v)", p, err)
		}
	}
}

// run runs a command, fails the test when it fails, and returns its
// output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
