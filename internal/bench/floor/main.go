// Command floor is the benchmark's floor: read a file, write it to stdout.
// It is the least a credential_process helper serving a cached document can
// cost.
package main

import "os"

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	_, _ = os.Stdout.Write(b)
}
