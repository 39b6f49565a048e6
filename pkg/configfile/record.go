package configfile

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cachectl/cachectl/pkg/textdiff"
)

// Record replaces the expect block of each route in recorded (by path, as
// the file writes it) with what its variants do now. Only those blocks
// change: every other line of src, comments included, stays as it was; a
// comment above a variant's line or after it is kept with the new line. A
// route without an expect block gets one after its path. The changes are
// in file order; a route whose block would not change has none.
func Record(src []byte, recorded []Route) ([]textdiff.Change, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	items, err := routeItems(&doc)
	if err != nil {
		return nil, err
	}
	lines := textdiff.SplitLines(string(src))
	var changes []textdiff.Change
	for _, r := range recorded {
		item, ok := items[r.Path]
		if !ok {
			return nil, fmt.Errorf("no route with path %q in routes", r.Path)
		}
		c, err := recordRoute(lines, item, r)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", r.Path, err)
		}
		if !equalLines(lines[c.Start:c.End], c.New) {
			changes = append(changes, c)
		}
	}
	slices.SortFunc(changes, func(a, b textdiff.Change) int { return a.Start - b.Start })
	return changes, nil
}

// routeItems maps each route's path to its mapping in routes.
func routeItems(doc *yaml.Node) (map[string]*yaml.Node, error) {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("expected a mapping at the top of the file")
	}
	routes := value(doc.Content[0], "routes")
	if routes == nil || routes.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("expected a routes: list")
	}
	items := map[string]*yaml.Node{}
	for _, it := range routes.Content {
		if it.Kind != yaml.MappingNode {
			continue
		}
		if p := value(it, "path"); p != nil && p.Kind == yaml.ScalarNode {
			items[p.Value] = it
		}
	}
	return items, nil
}

// key and value find a mapping's key node and its value by name.
func key(m *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i]
		}
	}
	return nil
}

func value(m *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i+1]
		}
	}
	return nil
}

// recordRoute is the change to one route: its expect block (the key's
// line and every following line indented deeper than the key, or blank
// between such lines) replaced, or a new block after the path's line.
func recordRoute(lines []string, item *yaml.Node, r Route) (textdiff.Change, error) {
	if item.Style&yaml.FlowStyle != 0 {
		return textdiff.Change{}, fmt.Errorf("written as a flow mapping ({path: ...}); --record rewrites routes written one key a line")
	}
	k := key(item, "expect")
	if k == nil {
		p := key(item, "path")
		at := blockEnd(lines, p.Line-1, p.Column-1)
		block, err := newBlock(lines, nil, r.Variants, strings.Repeat(" ", p.Column-1))
		return textdiff.Change{Start: at, End: at, New: block}, err
	}
	start := k.Line - 1
	if start >= len(lines) || k.Column-1 > len(lines[start]) {
		return textdiff.Change{}, fmt.Errorf("expect: at line %d column %d is not where the file has it", k.Line, k.Column)
	}
	block, err := newBlock(lines, value(item, "expect"), r.Variants, strings.Repeat(" ", k.Column-1))
	if err != nil {
		return textdiff.Change{}, err
	}
	// The key's line may start the list item ("- expect:").
	block[0] = lines[start][:k.Column-1] + "expect:"
	return textdiff.Change{Start: start, End: blockEnd(lines, start, k.Column-1), New: block}, nil
}

// newBlock is the expect block at indent: one flow mapping per recorded
// variant, a kept variant's lines as they were, and the comments the old
// block (nil for none) had above and after each variant's key.
func newBlock(lines []string, old *yaml.Node, variants []Variant, indent string) ([]string, error) {
	out := []string{indent + "expect:"}
	inner := indent + "  "
	if old != nil && old.Kind == yaml.MappingNode && old.Style&yaml.FlowStyle == 0 && len(old.Content) > 0 {
		inner = strings.Repeat(" ", old.Content[0].Column-1) // the file's own indentation
	}
	for _, v := range variants {
		var k, val *yaml.Node
		if old != nil && old.Kind == yaml.MappingNode {
			k, val = key(old, string(v.Variant)), value(old, string(v.Variant))
		}
		if k != nil && k.HeadComment != "" {
			for _, c := range strings.Split(k.HeadComment, "\n") {
				out = append(out, inner+c)
			}
		}
		if v.Keep {
			if k != nil {
				out = append(out, reindent(lines[k.Line-1:blockEnd(lines, k.Line-1, k.Column-1)], k.Column-1, inner)...)
			}
			continue
		}
		flow, err := flowExpectation(v.Observed.Expect)
		if err != nil {
			return nil, err
		}
		line := inner + string(v.Variant) + ": " + flow
		if c := inlineComment(k, val); c != "" {
			line += " " + c
		}
		out = append(out, line)
	}
	return out, nil
}

// reindent moves lines indented by col spaces to indent, keeping deeper
// lines' extra indentation.
func reindent(lines []string, col int, indent string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		if n := len(l) - len(strings.TrimLeft(l, " ")); n >= col {
			l = indent + l[col:]
		}
		out[i] = l
	}
	return out
}

// blockEnd is the line after the block that starts at line start with a
// key at column col (0-based): later lines belong to it while they are
// indented deeper than col; blank lines count only when such a line
// follows them.
func blockEnd(lines []string, start, col int) int {
	end := start + 1
	for i := start + 1; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " ")
		if trimmed == "" {
			continue
		}
		if len(lines[i])-len(trimmed) <= col {
			break
		}
		end = i + 1
	}
	return end
}

func inlineComment(k, v *yaml.Node) string {
	switch {
	case k == nil:
		return ""
	case k.LineComment != "":
		return k.LineComment
	case v != nil:
		return v.LineComment
	}
	return ""
}

func equalLines(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// Apply returns src with changes made, ending with a newline as src does.
func Apply(src []byte, changes []textdiff.Change) []byte {
	out := strings.Join(textdiff.Apply(textdiff.SplitLines(string(src)), changes), "\n")
	if len(src) == 0 || bytes.HasSuffix(src, []byte("\n")) {
		out += "\n"
	}
	return []byte(out)
}
