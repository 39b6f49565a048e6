package cli

import (
	"os"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
)

// TestMain runs the tests and then stops the local stack the integration
// tests share (stacktest.Shared): one stack for the whole package.
func TestMain(m *testing.M) { os.Exit(stacktest.Main(m)) }
