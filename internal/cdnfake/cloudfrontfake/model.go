package cloudfrontfake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
)

// Model is CloudFront's published API model for the invalidation
// operations (botocore's service-2.json, trimmed): what the fake's
// traffic is checked against.
type Model struct {
	Metadata struct {
		APIVersion string `json:"apiVersion"`
		Protocol   string `json:"protocol"`
	} `json:"metadata"`
	Operations map[string]struct {
		HTTP struct {
			Method       string `json:"method"`
			RequestURI   string `json:"requestUri"`
			ResponseCode int    `json:"responseCode"`
		} `json:"http"`
		Input  struct{ Shape string }   `json:"input"`
		Output struct{ Shape string }   `json:"output"`
		Errors []struct{ Shape string } `json:"errors"`
	} `json:"operations"`
	Shapes map[string]shape `json:"shapes"`
}

type shape struct {
	Type     string            `json:"type"`
	Required []string          `json:"required"`
	Members  map[string]member `json:"members"`
	Member   *member           `json:"member"`
	Payload  string            `json:"payload"`
	Error    *struct {
		HTTPStatusCode int `json:"httpStatusCode"`
	} `json:"error"`
}

type member struct {
	Shape        string `json:"shape"`
	Location     string `json:"location"`
	LocationName string `json:"locationName"`
	XMLNamespace *struct {
		URI string `json:"uri"`
	} `json:"xmlNamespace"`
}

// Unmodeled are the error codes CloudFront answers that its model does
// not list, with the status the fake gives them: throttling as CloudFront
// answers it, the CallerReference conflict as every *AlreadyExists error,
// and the authentication errors every AWS API shares.
var Unmodeled = map[string]int{
	"Throttling": 400, "InvalidationBatchAlreadyExists": 409,
	"MissingAuthenticationToken": 403, "IncompleteSignature": 400, "InvalidClientTokenId": 403,
	"SignatureDoesNotMatch": 403, "RequestTimeTooSkewed": 403,
}

// LoadModel reads a model file.
func LoadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// operation finds the operation a request was for.
func (m *Model) operation(method, path string) (string, bool) {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	for name, op := range m.Operations {
		uri, _, _ := strings.Cut(op.HTTP.RequestURI, "?")
		want := strings.Split(uri, "/")
		if op.HTTP.Method != method || len(want) != len(segs) {
			continue
		}
		match := true
		for i, w := range want {
			if !strings.HasPrefix(w, "{") && w != segs[i] {
				match = false
			}
		}
		if match {
			return name, true
		}
	}
	return "", false
}

// Check holds one recorded request and its answer to the model: the
// operation exists, a request body and a successful answer have the
// model's elements, and an error answer has a code the operation may
// answer with the model's status (Unmodeled for the rest). Injected
// faults are not CloudFront's and pass.
func (m *Model) Check(r cdnfake.Request) error {
	name, ok := m.operation(r.Method, r.Path)
	if !ok {
		return fmt.Errorf("%s %s: no such operation in the model", r.Method, r.Path)
	}
	op := m.Operations[name]
	if in := m.Shapes[op.Input.Shape]; in.Payload != "" && len(r.Body) > 0 {
		if err := m.checkPayload(r.Body, in); err != nil {
			return fmt.Errorf("%s request: %w", name, err)
		}
	}
	if r.Status == op.HTTP.ResponseCode {
		if err := m.checkPayload(r.Response, m.Shapes[op.Output.Shape]); err != nil {
			return fmt.Errorf("%s answer: %w", name, err)
		}
		return nil
	}
	if r.Fault {
		return nil
	}
	var e errorResponse
	if err := xml.Unmarshal(r.Response, &e); err != nil || e.Xmlns != Namespace {
		return fmt.Errorf("%s: answer %d is not an ErrorResponse: %s", name, r.Status, r.Response)
	}
	want, listed := Unmodeled[e.Error.Code]
	for _, es := range op.Errors {
		if es.Shape == e.Error.Code {
			want, listed = m.Shapes[es.Shape].Error.HTTPStatusCode, true
		}
	}
	if !listed || want != r.Status {
		return fmt.Errorf("%s: error %s answered %d; the model says %d (listed: %v)", name, e.Error.Code, r.Status, want, listed)
	}
	return nil
}

// checkPayload checks a body against the payload member of a structure.
func (m *Model) checkPayload(body []byte, s shape) error {
	pm := s.Members[s.Payload]
	root, err := parse(body)
	if err != nil {
		return err
	}
	if name := cmp(pm.LocationName, s.Payload); root.name.Local != name {
		return fmt.Errorf("root element %s, want %s", root.name.Local, name)
	}
	if root.name.Space != Namespace {
		return fmt.Errorf("namespace %q, want %q", root.name.Space, Namespace)
	}
	return m.checkElement(root, pm.Shape, root.name.Local)
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkElement checks an element against a shape: a structure's children
// are its members, each once and the required ones present; a list's are
// its member element; scalars parse.
func (m *Model) checkElement(n *node, shapeName, at string) error {
	s, ok := m.Shapes[shapeName]
	if !ok {
		return fmt.Errorf("%s: shape %s is not in the model", at, shapeName)
	}
	switch s.Type {
	case "structure":
		seen := map[string]bool{}
		for _, c := range n.children {
			name := c.name.Local
			i := slices.IndexFunc(keys(s.Members), func(k string) bool { return cmp(s.Members[k].LocationName, k) == name })
			if i < 0 || seen[name] {
				return fmt.Errorf("%s: unexpected or repeated element %s", at, name)
			}
			seen[name] = true
			if err := m.checkElement(c, s.Members[keys(s.Members)[i]].Shape, at+"."+name); err != nil {
				return err
			}
		}
		for _, req := range s.Required {
			if !seen[cmp(s.Members[req].LocationName, req)] {
				return fmt.Errorf("%s: required element %s missing", at, req)
			}
		}
	case "list":
		for _, c := range n.children {
			if want := cmp(s.Member.LocationName, "member"); c.name.Local != want {
				return fmt.Errorf("%s: list item %s, want %s", at, c.name.Local, want)
			}
			if err := m.checkElement(c, s.Member.Shape, at+"."+c.name.Local); err != nil {
				return err
			}
		}
	default:
		return checkScalar(s.Type, n.text, at)
	}
	return nil
}

func checkScalar(typ, v, at string) error {
	var err error
	switch typ {
	case "integer":
		_, err = strconv.Atoi(v)
	case "boolean":
		if v != "true" && v != "false" {
			err = errors.New("not true or false")
		}
	case "timestamp":
		_, err = time.Parse(time.RFC3339, v)
	}
	if err != nil {
		return fmt.Errorf("%s: %q is not a %s: %w", at, v, typ, err)
	}
	return nil
}

func keys(m map[string]member) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// node is an XML element: its name, its text, its child elements.
type node struct {
	name     xml.Name
	text     string
	children []*node
}

func parse(b []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.children = append(top.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no XML element")
	}
	return root, nil
}
