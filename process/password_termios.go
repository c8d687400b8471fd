//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package process

import (
	"os"

	"golang.org/x/sys/unix"
)

// echoOff turns off echo on the terminal, as golang.org/x/term's
// ReadPassword does, but before the prompt is written; restore puts the
// terminal back as it was and may be called more than once.
func echoOff(tty *os.File) (restore func(), err error) {
	fd := int(tty.Fd())
	old, err := unix.IoctlGetTermios(fd, getTermios)
	if err != nil {
		return nil, err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, setTermios, &quiet); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, setTermios, old) }, nil
}
