package cache

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

var base = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func entryFor(issued time.Time, lifetime time.Duration) *Entry {
	return &Entry{Version: Version, AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "secret",
		IssuedAt: issued, Expiration: issued.Add(lifetime), Source: "vault"}
}

func TestFresh(t *testing.T) {
	hour := entryFor(base, time.Hour)
	twenty := entryFor(base, 20*time.Minute)
	day := entryFor(base, 12*time.Hour)
	tests := []struct {
		name    string
		e       *Entry
		now     time.Time
		refresh time.Duration
		want    bool
	}{
		{"nil entry", nil, base, 15 * time.Minute, false},

		// A 1-hour credential refreshes 15 minutes before expiry.
		{"1h just issued", hour, base, 15 * time.Minute, true},
		{"1h with 16m left", hour, base.Add(44 * time.Minute), 15 * time.Minute, true},
		{"1h with 15m left", hour, base.Add(45 * time.Minute), 15 * time.Minute, false},
		{"1h with 14m left", hour, base.Add(46 * time.Minute), 15 * time.Minute, false},

		// 12 hours: still the 15-minute window.
		{"12h with 16m left", day, day.Expiration.Add(-16 * time.Minute), 15 * time.Minute, true},
		{"12h with 14m left", day, day.Expiration.Add(-14 * time.Minute), 15 * time.Minute, false},

		// A 20-minute credential is fresh for its first 10 minutes only.
		{"20m just issued", twenty, base, 15 * time.Minute, true},
		{"20m after 9m", twenty, base.Add(9 * time.Minute), 15 * time.Minute, true},
		{"20m after 10m", twenty, base.Add(10 * time.Minute), 15 * time.Minute, false},
		{"20m after 11m", twenty, base.Add(11 * time.Minute), 15 * time.Minute, false},

		// Expired is never fresh.
		{"expired", hour, hour.Expiration.Add(time.Second), 15 * time.Minute, false},
		{"at expiry", hour, hour.Expiration, 15 * time.Minute, false},
		{"expired refresh 0", hour, hour.Expiration.Add(time.Second), 0, false},
		{"at expiry refresh 0", hour, hour.Expiration, 0, false},

		// Refresh window 0: fresh until the last moment.
		{"refresh 0 one second left", hour, hour.Expiration.Add(-time.Second), 0, true},
		{"refresh 0 20m credential after 15m", twenty, base.Add(15 * time.Minute), 0, true},

		// A window wider than the lifetime still leaves half of it.
		{"refresh 2h on 1h credential after 29m", hour, base.Add(29 * time.Minute), 2 * time.Hour, true},
		{"refresh 2h on 1h credential after 31m", hour, base.Add(31 * time.Minute), 2 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Policy{RefreshWindow: tt.refresh}).Fresh(tt.e, tt.now); got != tt.want {
				t.Errorf("Fresh(now=%s, refresh=%s) = %v, want %v", tt.now.Format(time.RFC3339), tt.refresh, got, tt.want)
			}
		})
	}
}

func TestPolicyUsable(t *testing.T) {
	hour := entryFor(base, time.Hour)
	eight := entryFor(base, 8*time.Minute)
	p := Policy{RefreshWindow: 15 * time.Minute, MinRemaining: 5 * time.Minute}
	tests := []struct {
		name string
		e    *Entry
		now  time.Time
		want bool
	}{
		{"nil entry", nil, base, false},
		{"1h with 5m left", hour, hour.Expiration.Add(-5 * time.Minute), true},
		{"1h with 4m59s left", hour, hour.Expiration.Add(-5*time.Minute + time.Second), false},
		// Short credentials stand in while a quarter of their lifetime is left.
		{"8m with 2m left", eight, eight.Expiration.Add(-2 * time.Minute), true},
		{"8m with 1m59s left", eight, eight.Expiration.Add(-2*time.Minute + time.Second), false},
		{"at expiry", hour, hour.Expiration, false},
		{"expired", hour, hour.Expiration.Add(time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Usable(tt.e, tt.now); got != tt.want {
				t.Errorf("Usable(now=%s) = %v, want %v", tt.now.Format(time.RFC3339), got, tt.want)
			}
		})
	}
	if at := p.RefreshAt(hour); !at.Equal(hour.Expiration.Add(-15 * time.Minute)) {
		t.Errorf("RefreshAt = %s, want 15m before expiry", at)
	}
}

// After a suspend, Go's monotonic clock lags the wall clock; the policy
// judges by the wall clock even when the times it gets both carry a
// monotonic reading (as times computed in one process do).
func TestPolicyAfterSuspend(t *testing.T) {
	issued := time.Now()
	e := &Entry{IssuedAt: issued, Expiration: issued.Add(time.Hour)}
	woke := testenv.Suspended(issued, 2*time.Hour)
	p := Policy{RefreshWindow: 15 * time.Minute, MinRemaining: 5 * time.Minute}
	if p.Fresh(e, woke) {
		t.Error("Fresh after a 2h suspend of 1h credentials = true, want false")
	}
	if p.Usable(e, woke) {
		t.Error("Usable after a 2h suspend of 1h credentials = true, want false")
	}
	if now := Now(); now != now.Round(0) {
		t.Errorf("Now() = %v carries a monotonic reading", now)
	}
}

func TestKey(t *testing.T) {
	distinct := []struct {
		name string
		a, b []string
	}{
		{"length prefix", []string{"ab", "c"}, []string{"a", "bc"}},
		{"order", []string{"a", "b"}, []string{"b", "a"}},
		{"empty part counts", []string{"a"}, []string{"a", ""}},
		{"no parts vs one empty part", nil, []string{""}},
		{"separator bytes", []string{"a\x00", "b"}, []string{"a", "\x00b"}},
		{"one character", []string{"dev"}, []string{"dew"}},
	}
	for _, tt := range distinct {
		t.Run(tt.name, func(t *testing.T) {
			if ka, kb := Key(tt.a...), Key(tt.b...); ka == kb {
				t.Errorf("Key(%q) == Key(%q) == %s", tt.a, tt.b, ka)
			}
		})
	}
	t.Run("stable file name", func(t *testing.T) {
		k := Key("vault-credential-process/1", "https://vault:8200", "", "aws", "dev")
		if k != Key("vault-credential-process/1", "https://vault:8200", "", "aws", "dev") {
			t.Error("Key is not deterministic")
		}
		if len(k) != 64 || strings.Trim(k, "0123456789abcdef") != "" {
			t.Errorf("Key = %q, want 64 lower-case hex digits", k)
		}
	})
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	tests := []struct {
		name string
		e    Entry
	}{
		{"full", Entry{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s3cret", SessionToken: "tok3n",
			AccountID: "123456789012", IssuedAt: base, Expiration: base.Add(time.Hour),
			LeaseID: "aws/creds/dev/abc", LeaseDuration: 3600, Renewable: true, Source: "renewal",
			Request: json.RawMessage(`{"mount":"aws","role":"dev"}`)}},
		{"minimal", Entry{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s3cret",
			IssuedAt: base, Expiration: base.Add(time.Nanosecond), Source: "vault"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key(tt.name)
			in := tt.e
			if err := s.Save(key, &in); err != nil {
				t.Fatalf("Save: %v", err)
			}
			got, err := s.Load(key)
			if err != nil || got == nil {
				t.Fatalf("Load = %v, %v", got, err)
			}
			want := tt.e
			want.Version = Version
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", *got, want)
			}
		})
	}
	t.Run("no temporary files left", func(t *testing.T) {
		des, err := os.ReadDir(s.Dir())
		if err != nil {
			t.Fatal(err)
		}
		if len(des) != len(tests) {
			t.Errorf("folder holds %d files, want %d", len(des), len(tests))
		}
		for _, de := range des {
			if !strings.HasSuffix(de.Name(), ".json") || strings.HasPrefix(de.Name(), ".") {
				t.Errorf("unexpected file %s left in the cache folder", de.Name())
			}
		}
	})
	t.Run("overwrite", func(t *testing.T) {
		key := Key("overwrite")
		first, second := entryFor(base, time.Hour), entryFor(base.Add(time.Hour), time.Hour)
		second.AccessKeyID = "AKIASECOND"
		for _, e := range []*Entry{first, second} {
			if err := s.Save(key, e); err != nil {
				t.Fatalf("Save: %v", err)
			}
		}
		got, err := s.Load(key)
		if err != nil || got == nil || got.AccessKeyID != "AKIASECOND" || !got.Expiration.Equal(second.Expiration) {
			t.Errorf("Load = %+v, %v, want the second entry", got, err)
		}
	})
	t.Run("save sets the version", func(t *testing.T) {
		e := entryFor(base, time.Hour)
		e.Version = 7
		if err := s.Save(Key("version"), e); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if got, err := s.Load(Key("version")); err != nil || got == nil || got.Version != Version {
			t.Errorf("Load = %+v, %v, want version %d", got, err, Version)
		}
	})
}

func TestSaveIntoMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(Key("x"), entryFor(base, time.Hour)); err == nil {
		t.Error("Save into a removed folder succeeded")
	}
}

// writeEntry puts raw bytes where key's entry lives, mode 0600.
func writeEntry(t *testing.T, s *Store, key string, data []byte) {
	t.Helper()
	if err := os.WriteFile(s.path(key), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadMisses(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	good := encode(t, entryFor(base, time.Hour))
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		return encode(t, m)
	}
	tests := []struct {
		name string
		data []byte // nil: no file at all
	}{
		{"missing", nil},
		{"empty file", []byte{}},
		{"corrupt JSON", []byte("{not json")},
		{"truncated", good[:len(good)/2]},
		{"truncated by one byte", good[:len(good)-1]},
		{"JSON array", []byte("[]")},
		{"JSON null", []byte("null")},
		{"wrong version", mutate(func(m map[string]any) { m["version"] = 2 })},
		{"version zero", mutate(func(m map[string]any) { m["version"] = 0 })},
		{"version as string", mutate(func(m map[string]any) { m["version"] = "1" })},
		{"no version", mutate(func(m map[string]any) { delete(m, "version") })},
		{"no access key", mutate(func(m map[string]any) { delete(m, "access_key_id") })},
		{"no secret key", mutate(func(m map[string]any) { m["secret_access_key"] = "" })},
		{"no expiration", mutate(func(m map[string]any) { delete(m, "expiration") })},
		{"no issued_at", mutate(func(m map[string]any) { delete(m, "issued_at") })},
		{"bad expiration", mutate(func(m map[string]any) { m["expiration"] = "tomorrow" })},
		{"issued after expiry", mutate(func(m map[string]any) { m["issued_at"] = base.Add(2 * time.Hour) })},
		{"too big", mutate(func(m map[string]any) { m["source"] = strings.Repeat("x", maxEntrySize) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key(tt.name)
			if tt.data != nil {
				writeEntry(t, s, key, tt.data)
			}
			got, err := s.Load(key)
			if got != nil || err != nil {
				t.Errorf("Load = %+v, %v, want a miss (nil, nil)", got, err)
			}
		})
	}
	t.Run("control: the unmutated entry loads", func(t *testing.T) {
		writeEntry(t, s, Key("good"), good)
		if got, err := s.Load(Key("good")); got == nil || err != nil {
			t.Errorf("Load = %+v, %v, want the entry", got, err)
		}
	})
}

func TestRemove(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	key := Key("remove")
	if err := s.Save(key, entryFor(base, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if removed, err := s.Remove(key); !removed || err != nil {
		t.Fatalf("Remove = %v, %v", removed, err)
	}
	if got, err := s.Load(key); got != nil || err != nil {
		t.Errorf("Load after Remove = %+v, %v", got, err)
	}
	if removed, err := s.Remove(key); removed || err != nil {
		t.Errorf("Remove of a missing entry = %v, %v", removed, err)
	}
	// A corrupt entry, or one Load refuses, is removed all the same.
	if err := os.WriteFile(s.path(key), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if removed, err := s.Remove(key); !removed || err != nil {
		t.Errorf("Remove of a refused entry = %v, %v", removed, err)
	}
}

func TestList(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	keyA, keyB, keyBad := Key("a"), Key("b"), Key("bad")
	ea, eb := entryFor(base, time.Hour), entryFor(base, 2*time.Hour)
	ea.AccessKeyID, eb.AccessKeyID = "AKIAA", "AKIAB"
	for k, e := range map[string]*Entry{keyA: ea, keyB: eb} {
		if err := s.Save(k, e); err != nil {
			t.Fatal(err)
		}
	}
	writeEntry(t, s, keyBad, []byte("{"))
	// Neither a temporary file, a lock file nor a hidden file is an entry.
	for _, name := range []string{".tmp-123", keyA + ".lock", "notes.txt", "._" + keyA + ".json", "x.json", "settings.json"} {
		if err := os.WriteFile(filepath.Join(s.Dir(), name), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := map[string]string{keyA: "AKIAA", keyB: "AKIAB", keyBad: ""}
	if len(got) != len(want) {
		t.Fatalf("List returned %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, l := range got {
		if i > 0 && got[i-1].Key >= l.Key {
			t.Errorf("List is not sorted: %s before %s", got[i-1].Key, l.Key)
		}
		wantID, ok := want[l.Key]
		if !ok {
			t.Errorf("unexpected key %s", l.Key)
			continue
		}
		switch {
		case wantID == "" && l.Entry != nil:
			t.Errorf("broken entry %s listed as %+v, want nil", l.Key, l.Entry)
		case wantID != "" && (l.Entry == nil || l.Entry.AccessKeyID != wantID):
			t.Errorf("entry %s = %+v, want access key %s", l.Key, l.Entry, wantID)
		}
	}

	t.Run("removed folder", func(t *testing.T) {
		if err := os.RemoveAll(s.Dir()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.List(); err == nil {
			t.Error("List of a removed folder succeeded")
		}
	})
}

func TestLockWaitsForUnlock(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	key := Key("lock")

	unlock1, err := s.Lock(ctx, key)
	if err != nil {
		t.Fatalf("first Lock: %v", err)
	}
	type result struct {
		unlock func()
		err    error
	}
	second := make(chan result, 1)
	go func() {
		u, err := s.Lock(ctx, key)
		second <- result{u, err}
	}()

	// Another key is not held by the first lock.
	unlockOther, err := s.Lock(ctx, Key("other"))
	if err != nil {
		t.Fatalf("Lock of another key: %v", err)
	}
	unlockOther()

	select {
	case r := <-second:
		t.Fatalf("second Lock returned (err %v) while the first was held", r.err)
	default:
	}
	unlock1()
	r := testenv.WaitFor(t, second, "the second Lock")
	if r.err != nil {
		t.Fatalf("second Lock: %v", r.err)
	}

	// While the second holder has it, a short wait (one attempt at
	// least) fails.
	short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelShort()
	if u, err := s.Lock(short, key); err == nil {
		u()
		t.Fatal("Lock succeeded while the second holder held the key")
	}
	r.unlock()

	// Released: it can be taken again.
	u, err := s.Lock(ctx, key)
	if err != nil {
		t.Fatalf("Lock after both unlocked: %v", err)
	}
	u()
}

func TestLockGivesUp(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	key := Key("held")
	unlock, err := s.Lock(context.Background(), key)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer unlock()

	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
		{"deadline passed", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Minute))
		}},
		{"deadline passes while waiting", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Millisecond)
		}},
	}
	t.Run("control: a free key is taken under a deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		u, err := s.Lock(ctx, Key("free"))
		if err != nil {
			t.Fatalf("Lock of a free key: %v", err)
		}
		u()
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			done := make(chan error, 1)
			go func() {
				u, err := s.Lock(ctx, key)
				if err == nil {
					u()
				}
				done <- err
			}()
			err := testenv.WaitFor(t, done, "Lock to give up")
			if err == nil {
				t.Fatal("Lock on a held key succeeded")
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
			}
		})
	}
}

// FuzzDecode feeds arbitrary bytes to the entry decoder: it never panics,
// and whatever it accepts is a complete entry of this version that
// survives being saved again.
func FuzzDecode(f *testing.F) {
	full := &Entry{Version: Version, AccessKeyID: "ASIA", SecretAccessKey: "s", SessionToken: "t",
		AccountID: "123456789012", IssuedAt: base, Expiration: base.Add(time.Hour), LeaseID: "l",
		LeaseDuration: 3600, Renewable: true, Source: "vault", Request: json.RawMessage(`{"role":"dev"}`)}
	good, err := json.Marshal(full)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"version":1,"access_key_id":"a","secret_access_key":"b","expiration":"2030-01-01T00:00:00Z","issued_at":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":1,"access_key_id":"a","secret_access_key":"b","expiration":"2030-01-01T00:00:01+01:00","issued_at":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":1.0,"access_key_id":"a","secret_access_key":"b","expiration":"2030-01-01T00:00:01Z","issued_at":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":1,"version":2,"access_key_id":"a","secret_access_key":"b","expiration":"9999-12-31T23:59:59Z","issued_at":"0000-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"VERSION":1,"Access_Key_ID":"a","secret_access_key":"\u0000","expiration":"2030-01-01T00:00:01Z","issued_at":"2030-01-01T00:00:00Z","request":{"a":"b"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := decode(data)
		if e == nil {
			return
		}
		if e.Version != Version || e.AccessKeyID == "" || e.SecretAccessKey == "" ||
			e.Expiration.IsZero() || e.IssuedAt.IsZero() || !e.IssuedAt.Before(e.Expiration) {
			t.Fatalf("decode accepted an invalid entry %+v", e)
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("accepted entry does not encode again: %v", err)
		}
		e2 := decode(again)
		if e2 == nil {
			t.Fatalf("re-encoded entry %s is not accepted", again)
		}
		if e2.AccessKeyID != e.AccessKeyID || e2.SecretAccessKey != e.SecretAccessKey ||
			!e2.Expiration.Equal(e.Expiration) || !e2.IssuedAt.Equal(e.IssuedAt) {
			t.Fatalf("round trip changed the entry: %+v -> %+v", e, e2)
		}
	})
}
