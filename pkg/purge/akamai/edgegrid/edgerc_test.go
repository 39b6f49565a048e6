package edgegrid

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const edgerc = `# Akamai API credentials
[default]
host = akab-h05tnam3wl42son7-nalrfqfcyfwbzbbv.luna.akamaiapis.net/
client_token = akab-c113ntt0k3n4qtari252bfxxbsl-yvsdj
client_secret = C113nt53KR3TN6N90yVuAgICxIRwsObLi0E67/N8eRN=
access_token = akab-acc35t0k3nodujqunph3w7hzp7-gtm6ij

; the staging client
[ccu-staging]
host     = "https://akab-staging.luna.akamaiapis.net"
client_token=akab-staging-client
client_secret='staging-secret-value'
access_token = akab-staging-access
max-body = 2048

[incomplete]
host = akab-x.luna.akamaiapis.net
client_token = akab-incomplete-client
`

func TestParseEdgerc(t *testing.T) {
	tests := []struct {
		section string
		want    Credentials
		wantErr string
	}{
		{"default", Credentials{Host: "akab-h05tnam3wl42son7-nalrfqfcyfwbzbbv.luna.akamaiapis.net", ClientToken: "akab-c113ntt0k3n4qtari252bfxxbsl-yvsdj",
			ClientSecret: "C113nt53KR3TN6N90yVuAgICxIRwsObLi0E67/N8eRN=", AccessToken: "akab-acc35t0k3nodujqunph3w7hzp7-gtm6ij"}, ""},
		{"ccu-staging", Credentials{Host: "akab-staging.luna.akamaiapis.net", ClientToken: "akab-staging-client",
			ClientSecret: "staging-secret-value", AccessToken: "akab-staging-access", MaxBody: 2048}, ""},
		{"incomplete", Credentials{}, "section [incomplete] lacks client_secret, access_token"},
		{"nowhere", Credentials{}, "no section [nowhere]"},
	}
	for _, tt := range tests {
		t.Run(tt.section, func(t *testing.T) {
			got, err := ParseEdgerc(strings.NewReader(edgerc), tt.section)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("credentials = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestEdgercErrorsHoldNoValue: a malformed line is named by number, never
// quoted: it may hold a secret.
func TestEdgercErrorsHoldNoValue(t *testing.T) {
	for _, in := range []string{
		"[default]\nclient_secret C113nt53KR3TN6N90y\n",
		"[default\nclient_secret = C113nt53KR3TN6N90y\n",
		"[default]\nmax_body = C113nt53KR3TN6N90y\nhost=h\nclient_token=c\nclient_secret=s\naccess_token=a\n",
	} {
		_, err := ParseEdgerc(strings.NewReader(in), "default")
		if err == nil {
			t.Errorf("%q parsed", in)
			continue
		}
		if strings.Contains(err.Error(), "C113nt53KR3TN6N90y") && !strings.Contains(err.Error(), "max_body") {
			t.Errorf("error %q quotes the value", err)
		}
	}
}

func TestReadEdgerc(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".edgerc")
	if err := os.WriteFile(path, []byte(edgerc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ReadEdgerc(path, "default")
	if err != nil || c.Host != "akab-h05tnam3wl42son7-nalrfqfcyfwbzbbv.luna.akamaiapis.net" {
		t.Errorf("ReadEdgerc = %+v, %v", c, err)
	}
	if _, err := ReadEdgerc(path, "nowhere"); err == nil || !strings.Contains(err.Error(), path+": no section [nowhere]") {
		t.Errorf("error = %v, want the file and the section named", err)
	}
	if _, err := ReadEdgerc(dir, "default"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: error = %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, MaxEdgercBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEdgerc(big, "default"); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("a big file: error = %v", err)
	}
}
