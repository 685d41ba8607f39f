package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mpconform/mpconform/harness/catalogue"
	"github.com/mpconform/mpconform/harness/cpytests"
)

func listCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	md := fs.Bool("markdown", false, "print docs/behaviours.md")
	cpy := fs.Bool("cpython-tests", false, "print docs/cpython-tests.md")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *md && *cpy {
		return fmt.Errorf("%w: --markdown and --cpython-tests print different documents: choose one", errUsage)
	}
	if *cpy {
		return cpythonTests(stdout)
	}
	if *md {
		_, err := io.WriteString(stdout, catalogue.Markdown())
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPROFILE\tNEEDS\tRULE")
	for _, b := range catalogue.All() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.ID, b.Profile, strings.Join(b.Features, ","), b.Rule)
	}
	return tw.Flush()
}

// cpythonTests prints docs/cpython-tests.md. It refuses to when the catalogue
// names a test method that does not exist or both covers and explains one,
// since the document would hide that; a method left unaccounted for is
// printed as left (the tests fail on it).
func cpythonTests(stdout io.Writer) error {
	t, err := cpytests.Load(catalogue.All(), catalogue.NotApplicable)
	if err != nil {
		return err
	}
	if len(t.Wrong) > 0 {
		return fmt.Errorf("the catalogue's CPython tests are wrong (%d):\n  %s", len(t.Wrong), strings.Join(t.Wrong, "\n  "))
	}
	_, err = io.WriteString(stdout, t.Markdown())
	return err
}
