package cachetest

import (
	"os"
	"testing"

	"github.com/cachectl/cachectl/internal/stacktest"
)

// TestMain stops the caches and the stack after the last test.
func TestMain(m *testing.M) { os.Exit(stacktest.Main(m)) }
