// Command cachectl inspects, purges and verifies what a CDN or caching proxy
// does with a website's pages.
package main

import (
	"os"

	"github.com/cachectl/cachectl/pkg/cli"
)

func main() {
	os.Exit(cli.Main())
}
