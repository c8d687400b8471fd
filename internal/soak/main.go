// Command soak is the soak test of the credentials server, `make soak`: it
// runs `serve` with short-lived credentials of every type while clients of
// two AWS SDKs (aws-sdk-go-v2 through tools/awsgo, boto3 through
// tools/awspy) call STS through it in a loop, and meanwhile restarts Vault,
// seals and unseals it, stops it (SIGSTOP, a hung Vault), revokes the token
// that minted the credentials and floods the server with unauthenticated
// connections. A probe of its own asks the server for each profile every
// interval and checks what it hands out: never expired, never a key IAM no
// longer has (asked of moto). It prints a Markdown table of what it
// measured against the targets, and exits 1 when a target is missed.
//
// Vault here is not the test bed's dev server, whose state lives in memory
// and which cannot be sealed, but a server with file storage beside it
// (testbed.ServerVault), so a restart keeps tokens and leases as a real one
// does; moto is the bed's. All traffic stays on 127.0.0.1.
//
// The wall-clock jump the issue asks for (a laptop waking from sleep) needs
// a clock injected into the binary, which it does not have: the soak leaves
// it out and says so; the server's unit tests jump their injected clock.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	duration time.Duration // the whole soak, from the server's start
	interval time.Duration // between two calls of one client, and two probes of one profile
	flood    int           // connections per flood
	keep     bool          // keep the folder even when all went well
}

// minDuration leaves room for the warm-up, one fault and the quiet end.
const minDuration = 3 * time.Minute

func main() {
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 4*time.Minute, "how long the soak runs (at least 3m; a 10m run repeats the faults)")
	fs.DurationVar(&o.interval, "interval", time.Second, "pause between two calls of each client and two probes of each profile")
	fs.IntVar(&o.flood, "flood", 2000, "unauthenticated connections each flood holds open at once")
	fs.BoolVar(&o.keep, "keep", false, "keep the working folder (logs of Vault, moto, serve and the clients) even when every target is met")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if o.duration < minDuration || o.interval <= 0 || o.flood < 1 || fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "soak: usage: go run ./internal/soak [-duration D (>= %s)] [-interval D] [-flood N] [-keep], from the repository root\n", minDuration)
		os.Exit(2)
	}
	os.Exit(run(o))
}

// run sets the soak up, runs it, reports, and returns the exit status: 0
// when every target is met, 1 when one is missed or the soak could not run.
func run(o options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "vcp-soak-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: error: %v\n", err)
		return 1
	}
	s, err := setUp(ctx, o, dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: error: %v\nsoak: logs kept in %s\n", err, dir)
		if s != nil {
			s.tearDown()
		}
		return 1
	}
	s.soak(ctx)
	s.tearDown()
	missed := s.report(os.Stdout)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "soak: interrupted: the figures cover the time it ran")
		missed = true
	}
	if missed || o.keep {
		fmt.Fprintf(os.Stderr, "soak: logs kept in %s\n", dir)
	} else {
		_ = os.RemoveAll(dir)
	}
	if missed {
		return 1
	}
	return 0
}
