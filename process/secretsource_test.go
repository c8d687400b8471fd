package process

import (
	"errors"
	"os"
	"testing"
)

// TestEnvVarText: an unset *_env variable is named, unless its name is not
// in the usual upper case, which may be a secret pasted into the key.
func TestEnvVarText(t *testing.T) {
	t.Setenv("VCP_TEST_UNSET_PASSWORD", "")
	for _, tt := range []struct{ name, want string }{
		{"VCP_TEST_UNSET_PASSWORD", "the variable VCP_TEST_UNSET_PASSWORD (password_env) is empty or not set"},
		{"hunter2Secret", "the variable password_env names is empty or not set"},
	} {
		err := EnvSet(os.Getenv, "password_env", tt.name)
		var pe *Error
		if !errors.As(err, &pe) || pe.Msg != tt.want || pe.Code != ExitUsage {
			t.Errorf("envSet(%q) = %v, want exit 2 and %q", tt.name, err, tt.want)
		}
	}
}
