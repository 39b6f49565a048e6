package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCaseDuplicateKeysRejected: Production and production, or HOSTS and
// hosts, in one file are both reported with their key paths instead of one
// silently replacing the other.
func TestCaseDuplicateKeysRejected(t *testing.T) {
	src := `environments:
  production:
    base_url: https://www.example.com
    hosts: [www.example.com]
    HOSTS: [evil.example.net]
  Production:
    base_url: https://other.example.com
`
	_, err := Load(LoadOptions{File: writeFile(t, src)})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a ValidationError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`environments.production.HOSTS: found "HOSTS" (line 5), expected a key not also written as environments.production.hosts`,
		`environments.Production: found "Production" (line 6), expected a key not also written as environments.production`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

// TestConfigFromDeviceOrFIFORefused: --config /dev/zero or a FIFO is
// refused at once instead of growing without bound or hanging.
func TestConfigFromDeviceOrFIFORefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "config.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/dev/zero": "a device", fifo: "a named pipe", t.TempDir(): "a directory"} {
		done := make(chan error, 1)
		go func() { _, err := Load(LoadOptions{File: path}); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, want a refusal naming %s", path, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Load hung", path)
		}
	}
}

// TestConfigOverSizeCapRefused: a configuration above MaxConfigBytes is
// refused with the cap in the message.
func TestConfigOverSizeCapRefused(t *testing.T) {
	big := "# " + strings.Repeat("x", MaxConfigBytes) + "\nenvironments: {}\n"
	_, err := Load(LoadOptions{File: writeFile(t, big)})
	if err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Fatalf("got %v, want a refusal naming the 4 MiB cap", err)
	}
}

// TestSecretFileMustBeRegular: session.value_file on /dev/zero or a FIFO is
// an error, never a hang or an unbounded read.
func TestSecretFileMustBeRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "session.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("s", MaxSecretFileBytes+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo, big} {
		src := "environments:\n  p:\n    base_url: https://www.example.com\n    session: {cookie: sessionid, value_file: " + path + "}\n"
		cfg, err := Load(LoadOptions{File: writeFile(t, src)})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_ = cfg.SecretValues(nil)
			_, err := cfg.Environments["p"].SessionValue(nil, "")
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "regular file") {
				t.Errorf("%s: got %v, want a refusal", path, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: reading the secret hung", path)
		}
	}
}

// TestSecretWithLineBreakRefused: a token pasted with a line break inside is
// a configuration error (exit 2) that does not show the token.
func TestSecretWithLineBreakRefused(t *testing.T) {
	src := "environments:\n  p:\n    base_url: https://www.example.com\n    session: {cookie: sessionid, value_env: S}\n"
	cfg, err := Load(LoadOptions{File: writeFile(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	env := Environ{"S=abcdef\nghijkl"}
	_, err = cfg.Environments["p"].SessionValue(env.Lookup, "")
	if err == nil || !strings.Contains(err.Error(), "control character") || strings.Contains(err.Error(), "abcdef") {
		t.Errorf("got %v, want a refusal that does not show the value", err)
	}
}

// TestCookieValueWithForbiddenBytesRefused: a session value with ; " \ or a
// space is refused with a clear message instead of silently altered.
func TestCookieValueWithForbiddenBytesRefused(t *testing.T) {
	src := "environments:\n  p:\n    base_url: https://www.example.com\n    session: {cookie: sessionid, value_env: S}\n"
	cfg, err := Load(LoadOptions{File: writeFile(t, src)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{`abc;def`, `abc"def`, `abc\def`, `abc def`, `abc,def`} {
		_, err := cfg.Environments["p"].SessionValue(Environ{"S=" + v}.Lookup, "")
		if err == nil || !strings.Contains(err.Error(), "a cookie cannot carry") || strings.Contains(err.Error(), v) {
			t.Errorf("%q: got %v, want a refusal naming the rule, not the value", v, err)
		}
	}
	if got, err := cfg.Environments["p"].SessionValue(Environ{"S=a1-b2_c3.d4%2F=="}.Lookup, ""); err != nil || got.Reveal() != "a1-b2_c3.d4%2F==" {
		t.Errorf("a valid cookie value: %v", err)
	}
}

// TestCredentialHeadersInConfigRefused: headers: may not carry Cookie,
// Authorization or Proxy-Authorization, nor a value with a line break.
func TestCredentialHeadersInConfigRefused(t *testing.T) {
	src := "environments:\n  p:\n    base_url: https://www.example.com\n    headers: {Proxy-Authorization: Basic abc, X-Debug: \"a\\r\\nb\"}\n"
	_, err := Load(LoadOptions{File: writeFile(t, src)})
	if err == nil || !strings.Contains(err.Error(), "environments.p.headers.proxy-authorization") || !strings.Contains(err.Error(), "environments.p.headers.x-debug: found a value with a line break") {
		t.Errorf("got %v", err)
	}
}

// TestYAMLBombRefused: a configuration of nested aliases that would expand
// to billions of nodes is refused quickly instead of exhausting memory.
func TestYAMLBombRefused(t *testing.T) {
	bomb := "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += n + ": &" + n + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n"
		prev = n
	}
	done := make(chan error, 1)
	go func() { _, err := Load(LoadOptions{File: writeFile(t, bomb)}); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a YAML bomb was accepted")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load is still expanding the aliases after 10s")
	}
}
