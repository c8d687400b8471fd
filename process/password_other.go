//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package process

import (
	"errors"
	"os"
)

// echoOff: no password prompt where there are no termios.
func echoOff(*os.File) (func(), error) {
	return nil, errors.New("no terminal prompt on this system")
}
