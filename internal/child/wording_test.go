package child_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/vault-credential-process/vault-credential-process/internal/child"
	"github.com/vault-credential-process/vault-credential-process/process"
)

// TestChildStoppedWording: a child stopped because the run ends says so, not
// "context canceled".
func TestChildStoppedWording(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &child.Cmd{What: "test child", Timeout: time.Minute}
	err := process.ChildError(c.Run(ctx, os.Args[0], "-test.run=^$"))
	var e *process.Error
	if !errors.As(err, &e) || e.Msg != "test child was stopped: the run was interrupted" || !errors.Is(err, context.Canceled) {
		t.Errorf("run = %v, want the child stopped because the run was interrupted", err)
	}
}
