package cachestatus

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dunglas/httpsfv"
)

// ParseCacheStatus parses an RFC 9211 Cache-Status field value, such as
// Netlify's `"Netlify Durable"; hit, "Netlify Edge"; fwd=miss`, into one
// Layer per list member, origin-side first as the RFC orders them.
//
// Each member is mapped as follows: hit → HIT (STALE when ttl is negative);
// fwd=uri-miss, vary-miss, miss or partial → MISS; fwd=stale → EXPIRED, or
// REVALIDATED when fwd-status is 304; fwd=bypass, method or request →
// BYPASS; any other fwd reason → MISS, since the request went on to the next
// hop; a member with neither → UNKNOWN. The member's name goes into
// Layer.Name and every parameter into Layer.Detail, as text.
//
// A value that is empty, too long, not a structured-field List, has a
// member that is not a token or string, or sets both hit and fwd (which the
// RFC rules out) is an error.
func ParseCacheStatus(value string) ([]Layer, error) {
	if strings.TrimSpace(value) == "" {
		return nil, errors.New("cache-status: empty value")
	}
	if len(value) > maxValueLen {
		return nil, fmt.Errorf("cache-status: value of %d bytes exceeds %d", len(value), maxValueLen)
	}
	list, err := httpsfv.UnmarshalList([]string{value})
	if err != nil {
		return nil, fmt.Errorf("cache-status: parse list: %w", err)
	}
	if len(list) == 0 {
		return nil, errors.New("cache-status: empty list")
	}
	if len(list) > maxLayers {
		return nil, fmt.Errorf("cache-status: %d members exceed %d", len(list), maxLayers)
	}
	raws := splitMembers(value, len(list))
	layers := make([]Layer, 0, len(list))
	for i, m := range list {
		item, ok := m.(httpsfv.Item)
		if !ok {
			return nil, fmt.Errorf("cache-status: member %d is an inner list, want a cache name", i+1)
		}
		l, err := memberLayer(item)
		if err != nil {
			return nil, fmt.Errorf("cache-status: member %d: %w", i+1, err)
		}
		if raws != nil {
			l.Raw = raws[i]
		} else if raw, err := httpsfv.Marshal(httpsfv.List{item}); err == nil {
			l.Raw = raw
		}
		layers = append(layers, l)
	}
	return layers, nil
}

// memberLayer maps one Cache-Status member onto a Layer.
func memberLayer(item httpsfv.Item) (Layer, error) {
	var l Layer
	switch v := item.Value.(type) {
	case httpsfv.Token:
		l.Name = string(v)
	case string:
		l.Name = v
	default:
		return l, fmt.Errorf("cache name is a %T, want a token or string", item.Value)
	}
	var (
		hit, hasFwd, hasTTL, has304 bool
		fwd                         string
		ttl                         int64
	)
	if item.Params != nil {
		names := item.Params.Names()
		if len(names) > 0 {
			l.Detail = make(map[string]string, len(names))
		}
		for _, k := range names {
			v, _ := item.Params.Get(k)
			l.Detail[k] = paramText(v)
			switch k {
			case "hit":
				hit = v == true
			case "fwd":
				hasFwd = true
				fwd = strings.ToLower(l.Detail[k])
			case "ttl":
				ttl, hasTTL = v.(int64)
			case "fwd-status":
				code, ok := v.(int64)
				has304 = ok && code == 304
			}
		}
	}
	if hit && hasFwd {
		return l, fmt.Errorf("%q sets both hit and fwd", l.Name)
	}
	switch {
	case hit && hasTTL && ttl < 0:
		l.Status = STALE
	case hit:
		l.Status = HIT
	case !hasFwd:
		l.Status = UNKNOWN
	case fwd == "stale" && has304:
		l.Status = REVALIDATED
	case fwd == "stale":
		l.Status = EXPIRED
	case fwd == "bypass" || fwd == "method" || fwd == "request":
		l.Status = BYPASS
	default:
		// uri-miss, vary-miss, miss, partial, and reasons registered later.
		l.Status = MISS
	}
	return l, nil
}

// paramText renders a parameter value for Layer.Detail: tokens and strings
// as they are, booleans as true/false, numbers in decimal.
func paramText(v any) string {
	switch v := v.(type) {
	case httpsfv.Token:
		return string(v)
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []byte:
		return base64.StdEncoding.EncodeToString(v)
	case httpsfv.DisplayString:
		return string(v)
	default:
		return fmt.Sprint(v)
	}
}

// splitMembers cuts an already-validated List into its members' source
// text, so each Layer.Raw shows the member as the cache wrote it. Commas
// inside quoted strings do not split. It returns nil when the count does
// not match what the parser saw.
func splitMembers(v string, want int) []string {
	out := make([]string, 0, want)
	inQuote, start := false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ',':
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	out = append(out, strings.TrimSpace(v[start:]))
	if len(out) != want {
		return nil
	}
	return out
}
