package cli

import (
	"os"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
)

// TestMain runs the package's tests with one local stack for all of them
// (stacktest.Shared), stopped after the last test.
func TestMain(m *testing.M) {
	os.Exit(stacktest.Main(m))
}
