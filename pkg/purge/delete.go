package purge

import (
	"slices"
	"strings"
)

// Delete marks planned batches as deletions rather than invalidations
// (--delete), refusing before anything is sent a provider that has no
// such choice.
func Delete(p Provider, batches []Batch) error {
	caps := p.Capabilities()
	if !slices.Contains(caps, CapDelete) {
		names := make([]string, len(caps))
		for i, c := range caps {
			names[i] = string(c)
		}
		return inputErrorf("purge: provider %q cannot delete instead of invalidating (supports: %s); nothing was sent", p.Name(), strings.Join(names, ", "))
	}
	for i := range batches {
		batches[i].Delete = true
	}
	return nil
}
