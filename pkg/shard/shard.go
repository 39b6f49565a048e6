// Package shard splits routes between N workers deterministically, so a CI
// matrix or a Kubernetes Indexed Job can verify a large site in parallel,
// each worker (possibly in its own region) taking a stable share.
package shard

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// MaxCount bounds N: more shards than this is almost certainly a typo.
const MaxCount = 10000

// Shard is worker Index (1-based) of Count.
type Shard struct {
	Index int
	Count int
}

// All is the single shard holding every route.
var All = Shard{Index: 1, Count: 1}

// Parse reads "I/N" with 1 ≤ I ≤ N, as in --shard 2/4.
func Parse(s string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: expected I/N such as 2/4 (worker I of N, counting from 1)", s)
	}
	return New(i, n)
}

// FromZeroIndex builds the shard for a 0-based worker index such as a
// Kubernetes Indexed Job's JOB_COMPLETION_INDEX.
func FromZeroIndex(index string, n int) (Shard, error) {
	i, err := strconv.Atoi(strings.TrimSpace(index))
	if err != nil {
		return Shard{}, fmt.Errorf("shard index %q: expected a whole number from 0 to %d", index, n-1)
	}
	return New(i+1, n)
}

// New checks 1 ≤ index ≤ count ≤ MaxCount.
func New(index, count int) (Shard, error) {
	if count < 1 || count > MaxCount {
		return Shard{}, fmt.Errorf("shard count %d: expected 1 to %d", count, MaxCount)
	}
	if index < 1 || index > count {
		return Shard{}, fmt.Errorf("shard %d/%d: expected a worker number from 1 to %d", index, count, count)
	}
	return Shard{Index: index, Count: count}, nil
}

// String renders the shard as I/N.
func (s Shard) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// Whole reports whether the shard holds every route.
func (s Shard) Whole() bool { return s.Count <= 1 }

// Of returns the 1-based shard that key belongs to among count shards.
// The key is hashed (FNV-1a, 64 bit) so the split does not depend on the
// order routes are listed in, on the environment, or on the machine: the
// same route lands in the same shard in every run and every region.
func Of(key string, count int) int {
	if count <= 1 {
		return 1
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key)) // hash.Hash never returns an error
	return int(h.Sum64()%uint64(count)) + 1
}

// Has reports whether key belongs to s.
func (s Shard) Has(key string) bool {
	return s.Whole() || Of(key, s.Count) == s.Index
}
