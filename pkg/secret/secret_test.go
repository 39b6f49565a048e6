package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNeverFormatted(t *testing.T) {
	const raw = "tok-5f1e9a77c3"
	v := Value(raw)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "token", v)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "token", v)
	js, err := json.Marshal(struct{ T Value }{v})
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{
		fmt.Sprint(v), fmt.Sprintf("%s %v %q %x %X %#v %+v %d", v, v, v, v, v, v, v, v),
		fmt.Sprintf("%v", []Value{v}), fmt.Sprintf("%+v", struct{ T Value }{v}),
		fmt.Errorf("wrapped: %w", errors.New(v.String())).Error(),
		string(js), logs.String(),
	}
	for _, out := range outputs {
		if strings.Contains(out, raw) {
			t.Errorf("secret leaked: %s", out)
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("output %q does not say REDACTED", out)
		}
	}
	if v.Reveal() != raw || v.IsZero() || !Value("").IsZero() {
		t.Error("Reveal or IsZero wrong")
	}
}
