package awsconfig

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

const testCommand = "/opt/vcp --profile dev"

// TestWriteProfile: the file ends up with the profile and every other byte
// it had, keeps its mode (a new one gets 0600 in a 0700 folder), is written
// through a symlink, and its folder holds nothing else afterwards.
func TestWriteProfile(t *testing.T) {
	const others = "# my settings\n[default]\nregion = eu-west-1\n\n[profile other]\n# keep me\ncredential_process = /bin/other\nregion = us-west-2"
	stanza := Stanza("dev", testCommand)
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string) (path string) // the AWS config path to write
		force    bool
		want     string // the file's content afterwards
		changed  bool
		err      error
		mode     os.FileMode
		dirMode  os.FileMode // checked when not 0
		wantList []string    // what the file's folder holds afterwards
	}{
		{name: "new file in a new folder", setup: func(t *testing.T, dir string) string {
			return filepath.Join(dir, ".aws", "config")
		}, want: stanza, changed: true, mode: 0o600, dirMode: 0o700, wantList: []string{"config"}},
		{name: "other profiles and comments kept byte for byte, and the mode", setup: func(t *testing.T, dir string) string {
			return put(t, filepath.Join(dir, "config"), others, 0o644)
		}, want: others + "\n\n" + stanza, changed: true, mode: 0o644, wantList: []string{"config"}},
		{name: "already there", setup: func(t *testing.T, dir string) string {
			return put(t, filepath.Join(dir, "config"), others+"\n\n"+stanza, 0o640)
		}, want: others + "\n\n" + stanza, mode: 0o640, wantList: []string{"config"}},
		{name: "another command refused", setup: func(t *testing.T, dir string) string {
			return put(t, filepath.Join(dir, "config"), others+"\n[profile dev]\ncredential_process = other\n", 0o600)
		}, want: others + "\n[profile dev]\ncredential_process = other\n", err: ErrProfileExists, mode: 0o600, wantList: []string{"config"}},
		{name: "force replaces only the line", force: true, setup: func(t *testing.T, dir string) string {
			return put(t, filepath.Join(dir, "config"), "[profile dev]\n# c\ncredential_process = other\nregion = y\n"+others, 0o600)
		}, want: "[profile dev]\n# c\ncredential_process = " + testCommand + "\nregion = y\n" + others, changed: true, mode: 0o600,
			wantList: []string{"config"}},
		{name: "through a symlink", setup: func(t *testing.T, dir string) string {
			put(t, filepath.Join(dir, "aws-config"), others, 0o600)
			link := filepath.Join(dir, "config")
			if err := os.Symlink("aws-config", link); err != nil {
				t.Skipf("no symlinks here: %v", err)
			}
			return link
		}, want: others + "\n\n" + stanza, changed: true, mode: 0o600, wantList: []string{"aws-config", "config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			real := path
			if r, err := filepath.EvalSymlinks(path); err == nil {
				real = r
			}
			file, changed, err := WriteProfile(path, "dev", testCommand, tt.force)
			if !errors.Is(err, tt.err) || err != nil && tt.err == nil {
				t.Fatalf("WriteProfile: %v, want %v", err, tt.err)
			}
			if file != real || changed != tt.changed {
				t.Errorf("WriteProfile = %s, changed %v; want %s, changed %v", file, changed, real, tt.changed)
			}
			if data, err := os.ReadFile(path); err != nil || string(data) != tt.want {
				t.Errorf("the file holds %q (%v)\nwant %q", data, err, tt.want)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS != "windows" && fi.Mode().Perm() != tt.mode {
				t.Errorf("file mode %04o, want %04o", fi.Mode().Perm(), tt.mode)
			}
			if fi, err := os.Lstat(path); err == nil && path != real && fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the symlink %s was replaced by a file", path)
			}
			dir := filepath.Dir(path)
			if got := testenv.DirNames(t, dir); !slices.Equal(got, tt.wantList) {
				t.Errorf("the folder holds %q, want %q (a temporary file left?)", got, tt.wantList)
			}
			if fi, err := os.Stat(dir); tt.dirMode != 0 && runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != tt.dirMode) {
				t.Errorf("folder mode %v (%v), want %04o", fi.Mode().Perm(), err, tt.dirMode)
			}
		})
	}
}

// TestWriteProfileFails: when the file cannot be replaced, it keeps every
// byte, the error says which file, and no temporary file is left: not when
// the folder refuses a new file, nor when the rename fails after the
// temporary file was written.
func TestWriteProfileFails(t *testing.T) {
	const before = "# mine\n[profile other]\nregion = x\n"
	tests := []struct {
		name string
		jam  func(t *testing.T, dir, file string)
	}{
		{"unwritable folder", func(t *testing.T, dir, _ string) { testenv.Unwritable(t, dir) }},
		{"immutable file", func(t *testing.T, _, file string) {
			if os.Geteuid() != 0 {
				t.Skip("only root can make a file immutable")
			}
			testenv.Immutable(t, file)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS != "linux" {
				t.Skip("needs Linux file modes and chattr")
			}
			dir := t.TempDir()
			path := put(t, filepath.Join(dir, "config"), before, 0o600)
			tt.jam(t, dir, path)
			_, changed, err := WriteProfile(path, "dev", testCommand, false)
			if err == nil || changed || !strings.HasPrefix(err.Error(), "write "+path+": ") {
				t.Errorf("WriteProfile: %v (changed %v), want an error that starts %q", err, changed, "write "+path+": ")
			}
			if data, err := os.ReadFile(path); err != nil || string(data) != before {
				t.Errorf("the file holds %q (%v), want %q", data, err, before)
			}
			if got := testenv.DirNames(t, dir); !slices.Equal(got, []string{"config"}) {
				t.Errorf("the folder holds %q, want only config", got)
			}
		})
	}
}

// put writes data to path with mode, whatever the umask, and returns path.
func put(t *testing.T, path, data string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}
