package cli

import (
	"strings"
	"testing"
)

// TestCompletion: the completion scripts are printed for every shell the
// README documents, and --env and -o complete from the config and the
// output formats.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_cachectl", "zsh": "#compdef cachectl", "fish": "complete -c cachectl", "powershell": "Register-ArgumentCompleter"} {
		code, out, stderr := run(t, nil, "completion", shell)
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, %d bytes (stderr %q); want 0 and a script with %q", shell, code, len(out), stderr, want)
		}
	}
	cfg := writeConfig(t, "http://127.0.0.1:1")
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "--config", cfg, "verify", "--env", ""}, []string{"nosession", "production"}},
		{[]string{"__complete", "verify", "-o", ""}, []string{"table", "json", "jsonl", "junit", "markdown"}},
	} {
		code, out, stderr := run(t, nil, tt.args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != ExitOK || len(lines) != len(tt.want)+1 {
			t.Errorf("%v: exit %d, %q (stderr %q); want %v and a directive", tt.args, code, out, stderr, tt.want)
			continue
		}
		for i, w := range tt.want {
			if lines[i] != w {
				t.Errorf("%v: completion %d = %q, want %q", tt.args, i, lines[i], w)
			}
		}
	}
}
