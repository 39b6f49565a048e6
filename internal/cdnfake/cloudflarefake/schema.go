package cloudflarefake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaFile is the path of Cloudflare's published OpenAPI document for
// the purge operation, kept in the repository's testdata.
func SchemaFile() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "cloudflare", "cloudflare-purge-openapi.json")
}

// Schema checks bodies against the purge operation in Cloudflare's OpenAPI
// document. The operation's request schema is an anyOf of shapes whose
// properties are all optional, which any object satisfies; so a request
// body is also checked against the one shape its key names (files as URLs,
// or as {url, headers} objects; tags; hosts; prefixes; purge_everything).
// OpenAPI 3.0 extras (nullable, example) are not JSON Schema keywords and
// are ignored.
type Schema struct {
	request, ok *jsonschema.Schema
	shapes      map[string]*jsonschema.Schema
}

// LoadSchema compiles the schemas from the OpenAPI document at path.
func LoadSchema(path string) (*Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	const loc = "https://api.cloudflare.com/openapi.json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	op := loc + "#/paths/~1zones~1%7Bzone_id%7D~1purge_cache/post"
	s := &Schema{shapes: map[string]*jsonschema.Schema{}}
	if s.request, err = c.Compile(op + "/requestBody/content/application~1json/schema"); err != nil {
		return nil, err
	}
	if s.ok, err = c.Compile(op + "/responses/200/content/application~1json/schema"); err != nil {
		return nil, err
	}
	for shape, name := range map[string]string{
		"files": "SingleFile", "files with headers": "SingleFileWithUrlAndHeaders", "tags": "FlexPurgeByTags",
		"hosts": "FlexPurgeByHostnames", "prefixes": "FlexPurgeByPrefixes", "purge_everything": "Everything",
	} {
		if s.shapes[shape], err = c.Compile(loc + "#/components/schemas/cache-purge_" + name); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// CheckRequest checks a request body against the operation's schema and
// the shape it names.
func (s *Schema) CheckRequest(body []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := s.request.Validate(inst); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return err
	}
	for k, v := range keys {
		shape := k
		if k == "files" && bytes.HasPrefix(bytes.TrimLeft(v, " \t\r\n["), []byte("{")) {
			shape = "files with headers"
		}
		if sch := s.shapes[shape]; sch != nil {
			if err := sch.Validate(inst); err != nil {
				return fmt.Errorf("as %s: %w", shape, err)
			}
		}
	}
	return nil
}

// CheckSuccess checks the body of a 200 answer.
func (s *Schema) CheckSuccess(body []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.ok.Validate(inst)
}
