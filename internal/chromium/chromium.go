// Package chromium runs a headless Chromium for tests and drives it over the
// DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages ended
// by a NUL byte on file descriptors 3 and 4, no websocket): open a page,
// read the rendered DOM with JavaScript, take screenshots, and collect the
// page's console errors, uncaught exceptions and every network request it
// makes.
//
// One Browser serves many pages, so a test package starts Chromium once.
// Without Debian's chromium package tests are skipped with the install
// command; with CI=true they fail instead, so a CI job cannot pass by
// skipping.
package chromium

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Flags are the command-line flags Chromium starts with: headless, no
// sandbox (test containers run as root), and nothing that reaches for the
// network on its own (updates, sync, field trials, QUIC), so a request in
// a test's record can only come from the page.
var Flags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--no-default-browser-check",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-default-apps",
	"--disable-extensions",
	"--disable-dev-shm-usage",
	"--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
	"--metrics-recording-only",
	"--hide-scrollbars",
	"--mute-audio",
	"--remote-debugging-pipe",
}

// binaries are the names Chromium is installed under, Debian's first.
var binaries = []string{"chromium", "chromium-browser"}

// Browser is a running Chromium.
type Browser struct {
	cmd    *exec.Cmd
	w      *os.File // the browser's fd 3: commands
	stderr *lockedBuffer

	mu      sync.Mutex
	nextID  int
	pending map[int]chan reply
	pages   map[string]*Page // by DevTools session
	closed  chan struct{}    // the reader stopped: the browser exited
	readErr error
}

type reply struct {
	result json.RawMessage
	err    error
}

// message is one DevTools message: a command's reply (ID) or an event (Method).
type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Start launches Chromium with a fresh profile for t and stops it when t
// ends. It skips t when Chromium is not installed (fails it with CI=true).
func Start(t testing.TB) *Browser {
	t.Helper()
	bin := find()
	if bin == "" {
		msg := "chromium: not installed (install with: sudo apt-get install -y chromium)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b, err := launch(bin, t.TempDir())
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("chromium: %v", err)
		}
	})
	return b
}

func find() string {
	for _, name := range binaries {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// launch starts bin with profile as its user data directory and the
// DevTools pipe on descriptors 3 (commands) and 4 (replies and events).
func launch(bin, profile string) (*Browser, error) {
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		return nil, errors.Join(err, cmdR.Close(), cmdW.Close())
	}
	b := &Browser{w: cmdW, stderr: &lockedBuffer{}, pending: map[int]chan reply{}, pages: map[string]*Page{}, closed: make(chan struct{})}
	b.cmd = exec.Command(bin, append(append([]string{}, Flags...), "--user-data-dir="+profile, "about:blank")...)
	b.cmd.ExtraFiles = []*os.File{cmdR, evW}
	b.cmd.Stdout, b.cmd.Stderr = b.stderr, b.stderr
	err = b.cmd.Start()
	// The child holds its own copies; the parent keeps only its ends.
	errs := errors.Join(cmdR.Close(), evW.Close())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start %s: %w", bin, err), errs, cmdW.Close(), evR.Close())
	}
	go b.read(evR)
	return b, nil
}

// read dispatches the browser's messages until the pipe closes.
func (b *Browser) read(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for {
		var line []byte
		if line, err = br.ReadBytes(0); err != nil {
			break
		}
		var m message
		if json.Unmarshal(line[:len(line)-1], &m) != nil {
			continue
		}
		b.dispatch(m)
	}
	b.mu.Lock()
	b.readErr = fmt.Errorf("browser exited: %w\n%s", err, b.stderr.String())
	for id, ch := range b.pending {
		ch <- reply{err: b.readErr}
		delete(b.pending, id)
	}
	b.mu.Unlock()
	close(b.closed)
}

func (b *Browser) dispatch(m message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m.ID != 0 {
		ch, ok := b.pending[m.ID]
		if !ok {
			return
		}
		delete(b.pending, m.ID)
		if m.Error != nil {
			ch <- reply{err: fmt.Errorf("%s (code %d)", m.Error.Message, m.Error.Code)}
			return
		}
		ch <- reply{result: m.Result}
		return
	}
	if p := b.pages[m.SessionID]; p != nil {
		p.event(m.Method, m.Params)
	}
}

// call sends method with params (to session, "" for the browser) and
// decodes the reply's result into result (nil to ignore it).
func (b *Browser) call(ctx context.Context, session, method string, params, result any) error {
	ch := make(chan reply, 1)
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return b.readErr
	}
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(struct {
		ID        int    `json:"id"`
		Method    string `json:"method"`
		Params    any    `json:"params,omitempty"`
		SessionID string `json:"sessionId,omitempty"`
	}{id, method, params, session})
	if err != nil {
		return err
	}
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return fmt.Errorf("%s: %w", method, r.err)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(r.result, result)
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Close asks the browser to quit, and kills it if it has not within ten
// seconds.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = b.call(ctx, "", "Browser.close", nil, nil) // the browser may exit before it replies
	select {
	case <-b.closed:
	case <-ctx.Done():
		_ = b.cmd.Process.Kill()
	}
	err := b.w.Close()
	if werr := b.cmd.Wait(); werr != nil && ctx.Err() != nil {
		err = errors.Join(err, fmt.Errorf("killed after it did not quit: %w", werr))
	}
	return err
}

// lockedBuffer collects the browser's output for error messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
