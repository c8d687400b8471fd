package config

// Error is a configuration or usage error: the run stops before any network
// call and exits with status 2.
type Error struct {
	Source string // where the bad value came from: a flag, a variable, "file: key"
	Msg    string
	Hint   string // what to do about it; may be empty
}

func (e *Error) Error() string {
	if e.Source == "" {
		return e.Msg
	}
	return e.Source + ": " + e.Msg
}

func (e *Error) withHint(h string) *Error {
	e.Hint = h
	return e
}
