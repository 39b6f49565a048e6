package iostreams

import "testing"

// TestTerminalAwareness: colour only when stdout is a terminal and the
// environment does not refuse it; progress only when stdout and stderr are
// both terminals; prompts only when stdin and stderr are.
func TestTerminalAwareness(t *testing.T) {
	tests := []struct {
		name                              string
		in, out, errOut                   bool
		env                               map[string]string
		wantColor, wantProgress, wantAsks bool
	}{
		{name: "pipes", env: nil},
		{name: "all terminals", in: true, out: true, errOut: true, wantColor: true, wantProgress: true, wantAsks: true},
		{name: "NO_COLOR set", in: true, out: true, errOut: true, env: map[string]string{"NO_COLOR": "1"}, wantProgress: true, wantAsks: true},
		{name: "NO_COLOR empty", in: true, out: true, errOut: true, env: map[string]string{"NO_COLOR": ""}, wantProgress: true, wantAsks: true},
		{name: "dumb terminal", in: true, out: true, errOut: true, env: map[string]string{"TERM": "dumb"}, wantProgress: true, wantAsks: true},
		{name: "xterm", out: true, env: map[string]string{"TERM": "xterm-256color"}, wantColor: true},
		{name: "stdout piped", in: true, errOut: true, wantAsks: true},
		{name: "stderr piped", in: true, out: true, wantColor: true},
		{name: "stdin piped", out: true, errOut: true, wantColor: true, wantProgress: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _ := Test()
			s.SetTTY(tt.in, tt.out, tt.errOut)
			s.noColor = colorRefused(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if got := s.ColorEnabled(); got != tt.wantColor {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.wantColor)
			}
			if got := s.ProgressEnabled(); got != tt.wantProgress {
				t.Errorf("ProgressEnabled() = %v, want %v", got, tt.wantProgress)
			}
			if got := s.CanPrompt(); got != tt.wantAsks {
				t.Errorf("CanPrompt() = %v, want %v", got, tt.wantAsks)
			}
			if s.IsStderrTTY() != tt.errOut {
				t.Errorf("IsStderrTTY() = %v, want %v", s.IsStderrTTY(), tt.errOut)
			}
			s.DisableColor()
			if s.ColorEnabled() {
				t.Error("ColorEnabled() after DisableColor (--no-color) = true, want false")
			}
		})
	}
}

// TestTestStreamsAreNotTerminals: the test streams start as pipes.
func TestTestStreamsAreNotTerminals(t *testing.T) {
	s, _, _, _ := Test()
	if s.IsStdinTTY() || s.IsStdoutTTY() || s.IsStderrTTY() {
		t.Errorf("Test() streams are terminals: in %v out %v err %v", s.IsStdinTTY(), s.IsStdoutTTY(), s.IsStderrTTY())
	}
}
