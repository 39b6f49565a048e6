package retry

import (
	"context"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWithRootCAsTrustsOnlyTheBundle(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	base := NewClient(fastPolicy(), nil)
	if _, _, err := post(t, base, context.Background(), srv.URL, ""); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("the system roots trusted the test server: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, err := WithRootCAs(base, roots)
	if err != nil {
		t.Fatal(err)
	}
	resp, att, err := post(t, c, context.Background(), srv.URL, "")
	if err != nil {
		t.Fatalf("with the bundle: %v", err)
	}
	if resp.StatusCode != http.StatusOK || att.Count() != 1 {
		t.Errorf("status %d after %d attempts, want 200 after 1", resp.StatusCode, att.Count())
	}
	if got, want := c.Timeout, base.Timeout; got != want {
		t.Errorf("Timeout = %v, want %v", got, want)
	}
	if _, err := WithRootCAs(http.DefaultClient, roots); err == nil {
		t.Error("WithRootCAs accepted a client not built by NewClient")
	}
}
