// Command gen writes the files made from the command table
// (internal/cmdspec) into the repository's root folder: the shell
// completion scripts the binary prints (completion_generated.go) and the
// man page (vault-credential-process.1). `go generate .` runs it
// (completion.go); it needs nothing but this module, and leaves a file
// that is up to date as it is.
//
// The scripts are rendered here with text/template, never in the binary:
// text/template's reflection keeps every method of every type in the
// binary (2 MB more) and slows the start-up of every cache hit.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

func main() {
	root := flag.String("root", ".", "the repository's root folder")
	flag.Parse()
	if err := write(*root); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

// write writes each generated file into root, unless it is up to date.
func write(root string) error {
	out, err := generate()
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(out)) {
		path := filepath.Join(root, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, out[name]) {
			continue
		}
		if err := os.WriteFile(path, out[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generate makes every generated file, by its name in the root folder.
func generate() (map[string][]byte, error) {
	m, err := newModel()
	if err != nil {
		return nil, err
	}
	s, err := scripts(m)
	if err != nil {
		return nil, err
	}
	src, err := completionSource(s)
	if err != nil {
		return nil, fmt.Errorf("format completion_generated.go: %w", err)
	}
	return map[string][]byte{
		"completion_generated.go":    src,
		"vault-credential-process.1": []byte(manPage()),
	}, nil
}
