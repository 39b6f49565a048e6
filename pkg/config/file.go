package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"
)

// Size caps for files cachectl reads whole. A configuration of 4 MiB holds
// tens of thousands of routes (larger route lists belong in --routes files
// or sitemaps, which are streamed); a secret is one line.
const (
	MaxConfigBytes     = 4 << 20
	MaxSecretFileBytes = 64 << 10
)

// readRegular reads a regular file of at most limit bytes. Devices, FIFOs
// and directories are refused before anything is read, so /dev/zero or a
// pipe nobody writes to never hangs or exhausts memory.
func readRegular(path string, limit int64) ([]byte, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fileKind(fi.Mode()))
	}
	// O_NONBLOCK: a file swapped for a FIFO after the check must not block the open.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %s", path, byteSize(limit))
	}
	return b, nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}

func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// caseDuplicates finds mapping keys that differ only in case (Production
// and production, HOSTS and hosts): the configuration is case-insensitive,
// so one would silently replace the other.
func caseDuplicates(src []byte) []Problem {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc); err != nil {
		return nil // the parser's own error is reported when the file is read
	}
	return walkCaseDuplicates(&doc, "")
}

func walkCaseDuplicates(n *yaml.Node, path string) []Problem {
	var ps []Problem
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			ps = append(ps, walkCaseDuplicates(c, path)...)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			ps = append(ps, walkCaseDuplicates(c, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case yaml.MappingNode:
		first := map[string]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			lower := strings.ToLower(key)
			if prev, dup := first[lower]; dup {
				ps = append(ps, Problem{Key: join(path, key), Value: fmt.Sprintf("%q (line %d)", key, n.Content[i].Line),
					Expected: fmt.Sprintf("a key not also written as %s: keys are case-insensitive, so one would silently replace the other", join(path, prev))})
			} else {
				first[lower] = key
			}
			ps = append(ps, walkCaseDuplicates(n.Content[i+1], join(path, key))...)
		}
	}
	return ps
}
