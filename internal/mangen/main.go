// Command mangen writes cachectl's man pages, one per command, generated
// from the command tree: scripts/gen-man.sh runs it, and scripts/test.sh
// fails when the pages in docs/man are not what it writes.
//
//	go run ./internal/mangen -out docs/man
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/cachectl/cachectl/pkg/cli"
)

func main() {
	out := flag.String("out", "docs/man", "directory to write the pages to (its *.1 files are replaced)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}

// thDate is the date field of a page's .TH line. Pages carry none, so
// that they change only when the commands do.
var thDate = regexp.MustCompile(`(?m)^(\.TH "[^"]*" "[^"]*") "[^"]*"`)

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	root := cli.NewDocsCmd()
	epoch := time.Unix(0, 0).UTC()
	header := &doc.GenManHeader{Title: "CACHECTL", Section: "1", Source: "cachectl", Manual: "cachectl manual", Date: &epoch}
	return walk(root, func(cmd *cobra.Command) error {
		cmd.DisableAutoGenTag = true
		var buf bytes.Buffer
		if err := doc.GenMan(cmd, header, &buf); err != nil {
			return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
		}
		page := thDate.ReplaceAll(buf.Bytes(), []byte(`$1 ""`))
		name := strings.ReplaceAll(cmd.CommandPath(), " ", "-") + ".1"
		return os.WriteFile(filepath.Join(dir, name), page, 0o644)
	})
}

// walk calls fn for cmd and every command below it that a user can run or
// read help for.
func walk(cmd *cobra.Command, fn func(*cobra.Command) error) error {
	if !cmd.IsAvailableCommand() && cmd.HasParent() {
		return nil
	}
	if err := fn(cmd); err != nil {
		return err
	}
	for _, c := range cmd.Commands() {
		if err := walk(c, fn); err != nil {
			return err
		}
	}
	return nil
}
