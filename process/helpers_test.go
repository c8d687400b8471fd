package process

import (
	"errors"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/testenv"
)

// now is the injected clock of the Runner tests.
var now = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedNow() time.Time { return now }

// noSecrets fails the test if any secret appears in texts.
var noSecrets = testenv.NoSecrets

// debugLog collects --debug lines.
type debugLog = testenv.DebugLog

// errorTexts is what the user would see of err: its text and its hint.
func errorTexts(err error) []string {
	out := []string{err.Error()}
	var pe *Error
	if errors.As(err, &pe) {
		out = append(out, pe.Hint)
	}
	return out
}
