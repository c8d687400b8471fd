//go:build testhooks

package cache

import (
	"fmt"
	"os"
	"time"
)

// With -tags testhooks and VAULT_CREDENTIAL_PROCESS_TEST_PAUSE_WRITE=1, a
// write stops halfway through the temporary file, says so on stderr and
// waits to be killed. The integration tests use it to
// SIGKILL a process in the middle of a write. Release builds lack this file.
func init() {
	if os.Getenv("VAULT_CREDENTIAL_PROCESS_TEST_PAUSE_WRITE") != "1" {
		return
	}
	testHookMidWrite = func(tmp string) {
		fmt.Fprintf(os.Stderr, "test hook: paused writing %s\n", tmp)
		time.Sleep(time.Hour)
	}
}
