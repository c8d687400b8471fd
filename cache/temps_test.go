package cache

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestUnfinishedWrites: what a writer killed between create and rename
// leaves (it may hold half an entry's secrets) is found and removed by the
// next holder of the entry's lock, by Remove, and by `cache clear --all`
// through Keys and Blobs, even when no entry was ever completed.
func TestUnfinishedWrites(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	keyA, keyB := Key("a"), Key("b")
	const blob = "login-0123abcd.token"
	left := func(names ...string) {
		t.Helper()
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(s.Dir(), n), []byte(`{"secret_access_key":"half`), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	exists := func(n string) bool {
		_, err := os.Lstat(filepath.Join(s.Dir(), n))
		return err == nil
	}
	tmpA, tmpB, tmpBlob, legacy := ".tmp-"+keyA+".json-111", ".tmp-"+keyB+".json-222", ".tmp-"+blob+"-333", ".tmp-444"
	left(tmpA, tmpB, tmpBlob, legacy)

	keys, err := s.Keys()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{keyA, keyB}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("Keys = %v, want %v (keys with only an unfinished write)", keys, want)
	}
	blobs, err := s.Blobs("login-")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(blobs, []string{blob}) {
		t.Errorf("Blobs = %v, want [%s]", blobs, blob)
	}

	// Save of A removes A's leftovers, not B's (another writer may be at it).
	if err := s.Save(keyA, entryFor(time.Now(), time.Hour)); err != nil {
		t.Fatal(err)
	}
	if exists(tmpA) || !exists(tmpB) {
		t.Errorf("after Save(A): %s exists %v (want gone), %s exists %v (want kept)", tmpA, exists(tmpA), tmpB, exists(tmpB))
	}
	if removed, err := s.Remove(keyB); err != nil || removed {
		t.Errorf("Remove(B) = %v, %v, want false (no entry), nil", removed, err)
	}
	if exists(tmpB) {
		t.Errorf("Remove(B) left %s", tmpB)
	}
	if err := s.RemoveBlob(blob); err != nil || exists(tmpBlob) {
		t.Errorf("RemoveBlob = %v, left %s: %v", err, tmpBlob, exists(tmpBlob))
	}
	if n, err := s.RemoveStrayTemps(); err != nil || n != 1 || exists(legacy) {
		t.Errorf("RemoveStrayTemps = %d, %v; %s exists %v; want 1, nil, gone", n, err, legacy, exists(legacy))
	}
	if !exists(keyA + ".json") {
		t.Error("the entry of A is gone")
	}
}
