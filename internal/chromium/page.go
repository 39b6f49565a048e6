package chromium

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
)

// Page is one tab of the browser, with its own viewport.
type Page struct {
	b       *Browser
	session string
	loaded  chan struct{}

	mu       sync.Mutex
	problems []string
}

// NewPage opens a blank tab with a width × height viewport and starts
// recording its problems.
func (b *Browser) NewPage(ctx context.Context, width, height int) (*Page, error) {
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: attached.SessionID, loaded: make(chan struct{}, 1)}
	b.mu.Lock()
	b.pages[p.session] = p
	b.mu.Unlock()
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if err := p.call(ctx, m, nil, nil); err != nil {
			return nil, err
		}
	}
	metrics := map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}
	if err := p.call(ctx, "Emulation.setDeviceMetricsOverride", metrics, nil); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Page) call(ctx context.Context, method string, params, result any) error {
	return p.b.call(ctx, p.session, method, params, result)
}

// Open loads u and waits for its load event.
func (p *Page) Open(ctx context.Context, u string) error {
	select {
	case <-p.loaded: // a load event left over from before
	default:
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.call(ctx, "Page.navigate", map[string]any{"url": u}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("open %s: %s", u, nav.ErrorText)
	}
	select {
	case <-p.loaded:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("open %s: waiting for the load event: %w", u, ctx.Err())
	}
}

// Eval runs a JavaScript expression in the page and decodes its value
// (JSON-serializable) into out.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	params := map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}
	if err := p.call(ctx, "Runtime.evaluate", params, &res); err != nil {
		return err
	}
	if e := res.ExceptionDetails; e != nil {
		return fmt.Errorf("evaluate %q: %s %s", expr, e.Text, e.Exception.Description)
	}
	if len(res.Result.Value) == 0 {
		return fmt.Errorf("evaluate %q: no value", expr)
	}
	return json.Unmarshal(res.Result.Value, out)
}

// Screenshot is a PNG of the viewport.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var shot struct {
		Data string `json:"data"`
	}
	if err := p.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(shot.Data)
}

// Problems lists what went wrong in the page since it opened: console
// errors and failed assertions, uncaught exceptions, browser log errors
// (a Content-Security-Policy refusal, a resource that failed to load) and
// every network request for anything but a file:, data: or about: URL.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// event records what a DevTools event says about the page. It runs on the
// browser's reader, which holds the browser's lock.
func (p *Page) event(method string, params json.RawMessage) {
	if method == "Page.loadEventFired" {
		select {
		case p.loaded <- struct{}{}:
		default:
		}
		return
	}
	problem, err := describe(method, params)
	if err != nil {
		problem = fmt.Sprintf("%s: undecodable event: %v", method, err)
	}
	if problem != "" {
		p.mu.Lock()
		p.problems = append(p.problems, problem)
		p.mu.Unlock()
	}
}

// describe turns an event into a problem, "" when it is none.
func describe(method string, params json.RawMessage) (string, error) {
	var e struct {
		Type             string `json:"type"`
		Args             []remoteObject
		ExceptionDetails struct {
			Text      string       `json:"text"`
			Exception remoteObject `json:"exception"`
		} `json:"exceptionDetails"`
		Entry struct {
			Level  string `json:"level"`
			Source string `json:"source"`
			Text   string `json:"text"`
			URL    string `json:"url"`
		} `json:"entry"`
		Request struct {
			URL string `json:"url"`
		} `json:"request"`
	}
	switch method {
	case "Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded", "Network.requestWillBeSent", "Inspector.targetCrashed":
	default:
		return "", nil
	}
	if err := json.Unmarshal(params, &e); err != nil {
		return "", err
	}
	switch method {
	case "Runtime.consoleAPICalled":
		if e.Type == "error" || e.Type == "assert" {
			parts := make([]string, len(e.Args))
			for i, a := range e.Args {
				parts[i] = a.String()
			}
			return "console." + e.Type + ": " + strings.Join(parts, " "), nil
		}
	case "Runtime.exceptionThrown":
		return "uncaught exception: " + e.ExceptionDetails.Text + " " + e.ExceptionDetails.Exception.String(), nil
	case "Log.entryAdded":
		if e.Entry.Level == "error" {
			return fmt.Sprintf("browser log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL), nil
		}
	case "Network.requestWillBeSent":
		if !local(e.Request.URL) {
			return "network request: " + e.Request.URL, nil
		}
	case "Inspector.targetCrashed":
		return "the page crashed", nil
	}
	return "", nil
}

// local reports whether u needs no network: file:, data: and about: URLs.
func local(u string) bool {
	parsed, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch parsed.Scheme {
	case "file", "data", "about":
		return true
	}
	return false
}

type remoteObject struct {
	Value       json.RawMessage `json:"value"`
	Description string          `json:"description"`
}

func (o remoteObject) String() string {
	if o.Description != "" {
		return o.Description
	}
	var s string
	if json.Unmarshal(o.Value, &s) == nil {
		return s
	}
	return string(o.Value)
}
