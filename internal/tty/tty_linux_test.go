package tty

import (
	"bufio"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vault-credential-process/vault-credential-process/internal/tty/ptytest"
)

func echoOn(t *testing.T, f *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// TestReadPassword: the password is read without echo, the prompt shows,
// and the terminal gets its echo back.
func TestReadPassword(t *testing.T) {
	master, slave := ptytest.Open(t)
	const secret = "hunter2-not-to-be-seen"
	screen := make(chan string, 1)
	echoOff := make(chan struct{})
	go func() {
		r := bufio.NewReader(master)
		prompt, _ := r.ReadString(':')
		// The prompt can show a moment before the reader has turned echo
		// off (term.ReadPassword does it in its goroutine); a person cannot
		// type in that moment, this test can. Type once it is off.
		<-echoOff
		master.Write([]byte(secret + "\n"))
		rest, _ := r.ReadString('\n')
		screen <- prompt + rest
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		defer close(echoOff)
		for ctx.Err() == nil {
			tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
			if err != nil || tio.Lflag&unix.ECHO == 0 {
				return
			}
			time.Sleep(time.Millisecond) // termios has no event to wait on
		}
	}()
	got, err := ReadPassword(ctx, slave, "password:")
	if err != nil || got != secret {
		t.Fatalf("ReadPassword = %q, %v; want %q", got, err, secret)
	}
	if s := <-screen; strings.Contains(s, secret) || !strings.HasPrefix(s, "password:") {
		t.Errorf("the terminal showed %q: want the prompt, and not the password", s)
	}
	if !echoOn(t, slave) {
		t.Error("echo is still off after the password was read")
	}
}

// TestReadPasswordTimeout: nobody types; at the deadline ReadPassword gives
// up and the terminal gets its echo back, although the read it started is
// still blocked.
func TestReadPasswordTimeout(t *testing.T) {
	master, slave := ptytest.Open(t)
	go func() { _, _ = bufio.NewReader(master).ReadString('\n') }() // drain the prompt
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := ReadPassword(ctx, slave, "password:")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadPassword = %v, want the deadline", err)
	}
	if !echoOn(t, slave) {
		t.Error("echo is off after a timed-out password prompt: the user's terminal stays blind")
	}
}

// TestReadLine: a line typed at the terminal, and the deadline.
func TestReadLine(t *testing.T) {
	master, slave := ptytest.Open(t)
	master.Write([]byte("123456\n"))
	if got, err := ReadLine(context.Background(), slave); err != nil || strings.TrimSpace(got) != "123456" {
		t.Errorf("ReadLine = %q, %v", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := ReadLine(ctx, slave); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadLine with nothing typed = %v, want the deadline", err)
	}
}
