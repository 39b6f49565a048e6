package cli

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
)

// TestInterruptWhileWaitingForInput: Ctrl-C while a command waits for
// input that never comes (--from-file -, --routes -, the --everything
// confirmation prompt) exits 130 at once, having sent nothing.
func TestInterruptWhileWaitingForInput(t *testing.T) {
	o := newOrigin(t)
	cfg := writeConfig(t, o.URL)
	fake, cfCfg, cfEnv := cloudflareSetup(t, cloudflareNoFaults())
	tests := []struct {
		name string
		env  map[string]string
		tty  bool
		args []string
	}{
		{"inspect --from-file -", nil, false, []string{"inspect", "--config", cfg, "--env", "nosession", "--from-file", "-"}},
		{"verify --routes -", nil, false, []string{"verify", "--config", cfg, "--env", "nosession", "--routes", "-"}},
		{"purge --from-file -", cfEnv, false, []string{"purge", "--config", cfCfg, "--env", "production", "--journal", t.TempDir() + "/j", "--from-file", "-"}},
		{"purge --everything prompt", cfEnv, true, []string{"purge", "--config", cfCfg, "--env", "production", "--journal", t.TempDir() + "/j", "--everything", "--yes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, errOut := iostreams.Test()
			stdin, w := io.Pipe() // nobody ever writes
			t.Cleanup(func() { _ = w.Close() })
			ios.In = stdin
			ios.SetTTY(tt.tty, tt.tty, tt.tty)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			done := make(chan int, 1)
			go func() { done <- Execute(ctx, tt.args, ios, config.EnvironFromMap(tt.env)) }()
			select {
			case code := <-done:
				if code != ExitInterrupted {
					t.Errorf("exit %d, want 130: %s", code, errOut)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still waiting for input 5s after the interrupt")
			}
		})
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d purge requests sent", n)
	}
	if n := o.requests.Load(); n != 0 {
		t.Errorf("%d probes sent", n)
	}
}
