// Package configfile writes cachectl configuration files: a new, commented
// cachectl.yaml from what a site does now (`cachectl init`), and recorded
// expectations spliced into an existing file (`verify --record`), leaving
// every other line of it — comments, layout, other routes — as it was.
package configfile

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cachectl/cachectl/pkg/config"
)

// scalar is s as one line of YAML: plain where that reads back as the same
// string, quoted otherwise.
func scalar(s string) string {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.ContainsAny(s, "\r\n") {
		n.Style = yaml.DoubleQuotedStyle
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		// A string node always encodes; keep the value readable anyway.
		return `""`
	}
	return strings.TrimSuffix(string(b), "\n")
}

// flowExpectation is an expectation as a one-line flow mapping, status
// first as people write it: {status: 200, cache: [HIT, MISS], ...}.
func flowExpectation(e *config.Expectation) (string, error) {
	var n yaml.Node
	if err := n.Encode(e); err != nil {
		return "", err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "status" && i > 0 {
			pair := append([]*yaml.Node{}, n.Content[i:i+2]...)
			n.Content = append(n.Content[:i], n.Content[i+2:]...)
			n.Content = append(pair, n.Content...)
			break
		}
	}
	setFlow(&n)
	b, err := yaml.Marshal(&n)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// flowList is items as a one-line flow sequence: [a, b].
func flowList(items ...string) string {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, it := range items {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: it})
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		return "[]"
	}
	return strings.TrimSuffix(string(b), "\n")
}

func setFlow(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		setFlow(c)
	}
}

// comment is text as the body of a YAML comment: one line, nothing a
// server sent can end it early.
func comment(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
