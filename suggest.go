package main

import (
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vault-credential-process/vault-credential-process/config"
	"github.com/vault-credential-process/vault-credential-process/internal/cmdspec"
)

// "Did you mean" for mistyped commands and flags: the nearest known name
// by edit distance, when it is near enough to be what the user meant.

// maxSuggestDistance is how many edits a typo may be from the name meant:
// two catches a swapped pair ("sevre") or a dropped and a doubled letter,
// and is still far from every other command and flag name.
const maxSuggestDistance = 2

// closest is the name in names nearest to typed, or "" when none is within
// maxSuggestDistance edits, or the edits would rewrite most of typed ("ls"
// is two edits from "env" but means nothing like it). Ties go to the name
// that sorts first, so the suggestion does not depend on map order.
func closest(typed string, names []string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	best, bestDist := "", maxSuggestDistance+1
	for _, n := range names {
		if d := editDistance(typed, n); d < bestDist && d < len(typed) {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b: the fewest single
// character insertions, deletions and substitutions that turn a into b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// commandNames are the names of the commands, sorted.
func commandNames() []string {
	names := cmdspec.Names()
	slices.Sort(names)
	return names
}

// unknownFlag turns the flag package's "flag provided but not defined:
// -rol" into an error that shows the flag as it was typed (-rol or --rol)
// and suggests the nearest flag of fs, in the same form. Any other parse
// error is returned as a usage error unchanged.
func unknownFlag(fs *flag.FlagSet, args []string, err error) *config.Error {
	const prefix = "flag provided but not defined: -"
	typed, ok := strings.CutPrefix(err.Error(), prefix)
	if !ok {
		return flagValueError(args, err)
	}
	dashes := dashesOf(args, typed)
	e := usageError("unknown flag " + dashes + typed)
	names := []string{"help"}
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if s := closest(typed, names); s != "" {
		e.Hint = "did you mean " + dashes + s + "? Run " + name + " -h for usage"
	}
	return e
}

// The flag package's other parse errors, which show a flag with one dash
// whatever was typed, and a bool's refusal as "parse error". Compiled on
// first use, not at start-up: a cache hit never needs them.
var (
	flagNeedsValue = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^flag needs an argument: -(\S+)$`) })
	flagBadBool    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^invalid boolean value (".*") for -(\S+): `) })
	flagBadValue   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^invalid value (".*") for flag -(\S+): (.*)$`) })
)

// flagValueError words the flag package's errors about a flag's value with
// the flag as it was typed; any other error goes out as it is.
func flagValueError(args []string, err error) *config.Error {
	msg := err.Error()
	if m := flagNeedsValue().FindStringSubmatch(msg); m != nil {
		f := dashesOf(args, m[1]) + m[1]
		e := usageError(f + " needs a value")
		e.Hint = "put it after the flag (" + f + " VALUE or " + f + "=VALUE); run " + name + " -h for usage"
		return e
	}
	if m := flagBadBool().FindStringSubmatch(msg); m != nil {
		f := dashesOf(args, m[2]) + m[2]
		e := usageError(fmt.Sprintf("%s takes no value, or true or false, not %s", f, m[1]))
		e.Hint = "write " + f + " alone to turn it on (" + f + "=false to turn it off); run " + name + " -h for usage"
		return e
	}
	if m := flagBadValue().FindStringSubmatch(msg); m != nil {
		return usageError(fmt.Sprintf("%s: invalid value %s: %s", dashesOf(args, m[2])+m[2], m[1], m[3]))
	}
	return usageError(msg)
}

// dashesOf is how the flag named typed was written in args: "-" or "--"
// (the flag package takes both); "--" when it is not found.
func dashesOf(args []string, typed string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		body := strings.TrimLeft(a, "-")
		if n, _, _ := strings.Cut(body, "="); n == typed && len(a)-len(body) == 1 {
			return "-"
		}
	}
	return "--"
}

// unknownCommand is the usage error for a word that names no command,
// with the nearest command name, if one is near, or the list of them.
func unknownCommand(prefix, typed string) *config.Error {
	e := usageError(prefix + "unknown command " + strconv.Quote(typed))
	names := commandNames()
	if s := closest(typed, names); s != "" {
		e.Hint = "did you mean `" + name + " " + s + "`? Run " + name + " -h for usage"
	} else {
		e.Hint = "the commands are " + strings.Join(names, ", ") + "; run " + name + " -h for usage"
	}
	return e
}
