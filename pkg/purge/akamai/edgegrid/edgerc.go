package edgegrid

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/cachectl/cachectl/pkg/secret"
)

// MaxEdgercBytes caps the size of an .edgerc file: a few sections of
// credentials take a few hundred bytes.
const MaxEdgercBytes = 64 << 10

// ReadEdgerc reads the credentials of section from the .edgerc file at
// path: a regular file of at most MaxEdgercBytes. Errors name the file,
// the section and the line, never a value.
func ReadEdgerc(path, section string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Credentials{}, err
	}
	if !fi.Mode().IsRegular() {
		return Credentials{}, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > MaxEdgercBytes {
		return Credentials{}, fmt.Errorf("%s is %d bytes, more than the %d an .edgerc file may hold", path, fi.Size(), MaxEdgercBytes)
	}
	c, err := ParseEdgerc(io.LimitReader(f, MaxEdgercBytes), section)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseEdgerc reads the credentials of section from an .edgerc file:
// INI sections of "key = value" lines, # and ; comments, values
// optionally quoted. The section must hold host, client_token,
// client_secret and access_token; max_body is optional. A host given with
// a scheme or a trailing slash is taken without them.
func ParseEdgerc(r io.Reader, section string) (Credentials, error) {
	values, found, err := sectionValues(r, section)
	if err != nil {
		return Credentials{}, err
	}
	if !found {
		return Credentials{}, fmt.Errorf("no section [%s]", section)
	}
	var missing []string
	for _, k := range []string{"host", "client_token", "client_secret", "access_token"} {
		if values[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("section [%s] lacks %s", section, strings.Join(missing, ", "))
	}
	host := strings.TrimSuffix(strings.TrimPrefix(values["host"], "https://"), "/")
	c := Credentials{Host: host, ClientToken: secret.Value(values["client_token"]), ClientSecret: secret.Value(values["client_secret"]), AccessToken: secret.Value(values["access_token"])}
	if v := values["max_body"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Credentials{}, fmt.Errorf("section [%s]: max_body %q: want a positive number of bytes", section, v)
		}
		c.MaxBody = n
	}
	return c, nil
}

// sectionValues collects the keys of one section; found says whether the
// section was there at all.
func sectionValues(r io.Reader, section string) (map[string]string, bool, error) {
	values := map[string]string{}
	in, found := false, false
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			name, ok := strings.CutSuffix(line[1:], "]")
			if !ok {
				return nil, false, fmt.Errorf("line %d: a section header without its closing ]", n)
			}
			in = strings.TrimSpace(name) == section
			found = found || in
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, false, fmt.Errorf("line %d: expected key = value", n)
		}
		if in {
			k = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(k)), "-", "_")
			values[k] = unquote(strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, errors.New("reading: " + err.Error())
	}
	return values, found, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
