package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mpconform/mpconform/harness/catalogue"
)

func listCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	md := fs.Bool("markdown", false, "print docs/behaviours.md")
	if err := parse(fs, args); err != nil {
		return err
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
