//go:build unix

package main

import "syscall"

// startCoreLimit is RLIMIT_CORE as the process started with, kept for exec
// to give back; nil while core dumps are not turned off.
var startCoreLimit *syscall.Rlimit

// disableCoreDumps lowers the soft RLIMIT_CORE to 0: a crash must not leave
// a core file holding the Vault token or a secret key. Only the soft limit
// goes down: the hard limit stays, so that restoreCoreDumps can raise the
// soft one again for the command exec runs. It runs on every cache hit, so
// it is one getrlimit and at most one setrlimit (none when dumps are off
// already, the usual default). A failure leaves the limit as it was: it
// is no reason to refuse credentials.
func disableCoreDumps() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil || lim.Cur == 0 {
		return
	}
	off := lim
	off.Cur = 0
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &off); err == nil {
		startCoreLimit = &lim
	}
}

// restoreCoreDumps gives back the core dump limit the process started with,
// for a command that replaces this process: the user's program keeps the
// user's setting.
func restoreCoreDumps() error {
	if startCoreLimit == nil {
		return nil
	}
	return syscall.Setrlimit(syscall.RLIMIT_CORE, startCoreLimit)
}
