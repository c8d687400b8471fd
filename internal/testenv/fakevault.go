package testenv

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Secret values the fake Vaults of the unit tests hand out or are given;
// none may appear in an error, a hint or the debug log.
const (
	FakeToken        = "hvs.TESTTOKENmustNeverLeak"
	FakeAccessKey    = "AKIAIOSFODNN7EXAMPLE"
	FakeSecretKey    = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY"
	FakeSessionToken = "FwoGZXIvYXdzSESSIONTOKENmustNeverLeak"
)

// NoSecrets fails the test if any of the fake secrets appears in texts.
func NoSecrets(t testing.TB, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range []string{FakeToken, FakeSecretKey, FakeSessionToken} {
			if strings.Contains(text, s) {
				t.Errorf("a secret leaked into %q", text)
			}
		}
	}
}

// DebugLog collects --debug lines.
type DebugLog struct {
	mu    sync.Mutex
	lines []string
}

// Printf is a debugf.
func (l *DebugLog) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *DebugLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// Lines are the lines collected so far.
func (l *DebugLog) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}
