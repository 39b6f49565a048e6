package purge

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"os"
	"slices"
)

// spoolMemory is how many targets a spool holds in memory before it moves
// them to a file: plans of up to a few thousand targets never touch the
// disk.
const spoolMemory = 4096

// spool is a sequence of values written once and then read back in order,
// as often as needed: in memory while it is small, then in a temporary
// file, so a plan of a million targets takes no more memory than one of a
// thousand. The file is unlinked as soon as it is created: it lives while
// the process has it open, and a crash leaves nothing behind.
type spool[T any] struct {
	// dir is where the file goes; "" is the system's temporary directory.
	dir string
	// memory overrides spoolMemory when positive.
	memory int

	mem    []T
	weight int
	f      *os.File
	w      *bufio.Writer
	n      int
	err    error
}

// add appends v, which holds weight targets.
func (s *spool[T]) add(v T, weight int) error {
	if s.err != nil {
		return s.err
	}
	s.n++
	limit := s.memory
	if limit <= 0 {
		limit = spoolMemory
	}
	if s.f == nil && s.weight+weight <= limit {
		s.mem = append(s.mem, v)
		s.weight += weight
		return nil
	}
	if s.f == nil {
		if s.err = s.spill(); s.err != nil {
			return s.err
		}
	}
	s.err = s.write(v)
	return s.err
}

// spill moves the values held in memory to the spool's file.
func (s *spool[T]) spill() error {
	f, err := os.CreateTemp(s.dir, "cachectl-plan-*.jsonl")
	if err != nil {
		return fmt.Errorf("purge: spool the plan to disk: %w (TMPDIR names where; it needs room for about 100 bytes a target); nothing was sent", err)
	}
	_ = os.Remove(f.Name())
	s.f, s.w = f, bufio.NewWriterSize(f, 256<<10)
	for _, v := range s.mem {
		if err := s.write(v); err != nil {
			return err
		}
	}
	s.mem = nil
	return nil
}

func (s *spool[T]) write(v T) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("purge: spool the plan: %w", err)
	}
	if _, err := s.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("purge: spool the plan to %s: %w", s.f.Name(), err)
	}
	return nil
}

// len is how many values were added.
func (s *spool[T]) len() int { return s.n }

// all yields the values in the order they were added. A value that cannot
// be read back stops the sequence and is reported by failed.
func (s *spool[T]) all() iter.Seq[T] {
	return func(yield func(T) bool) {
		if s.err != nil {
			return
		}
		if s.f == nil {
			for _, v := range s.mem {
				if !yield(v) {
					return
				}
			}
			return
		}
		s.err = s.replay(yield)
	}
}

func (s *spool[T]) replay(yield func(T) bool) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("purge: spool the plan: %w", err)
	}
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, 0, 1<<62), 256<<10)
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("purge: read the spooled plan back: %w", err)
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return fmt.Errorf("purge: read the spooled plan back: %w", err)
		}
		if !yield(v) {
			return nil
		}
	}
}

// failed is the first error writing or reading the spool, if any.
func (s *spool[T]) failed() error { return s.err }

// close releases the spool's file.
func (s *spool[T]) close() error {
	s.mem = nil
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// keySet remembers which keys it has seen by a 128-bit hash of each (two
// 64-bit hashes with seeds chosen at random when the set is made): no two
// keys of a plan share a hash in practice (for a million keys, odds about
// 1 in 10^26). Hashes go to a small map first, then, 32,768 at a time, to
// sorted runs merged as they double, so the set takes 16 bytes a key
// rather than a large map's 40 or more.
type keySet struct {
	s1, s2 maphash.Seed
	recent map[[2]uint64]struct{}
	runs   [][][2]uint64 // sorted; each at most half the size of the one before
}

// keySetRecent is how many hashes the map holds before they become a run.
const keySetRecent = 1 << 15

func newKeySet() *keySet {
	return &keySet{s1: maphash.MakeSeed(), s2: maphash.MakeSeed(), recent: map[[2]uint64]struct{}{}}
}

// add records key and reports whether it was new.
func (k *keySet) add(key string) bool {
	return k.addHash([2]uint64{maphash.String(k.s1, key), maphash.String(k.s2, key)})
}

// has reports whether key was added.
func (k *keySet) has(key string) bool {
	return k.contains([2]uint64{maphash.String(k.s1, key), maphash.String(k.s2, key)})
}

// addHash records a hash made elsewhere and reports whether it was new.
func (k *keySet) addHash(h [2]uint64) bool {
	if k.contains(h) {
		return false
	}
	k.recent[h] = struct{}{}
	if len(k.recent) >= keySetRecent {
		k.compact()
	}
	return true
}

func (k *keySet) contains(h [2]uint64) bool {
	if _, ok := k.recent[h]; ok {
		return true
	}
	for _, r := range k.runs {
		if _, ok := slices.BinarySearchFunc(r, h, compareHash); ok {
			return true
		}
	}
	return false
}

// compact moves the map's hashes to a sorted run, merged with the runs
// before it that are no larger.
func (k *keySet) compact() {
	run := make([][2]uint64, 0, len(k.recent))
	for h := range k.recent {
		run = append(run, h)
	}
	clear(k.recent)
	slices.SortFunc(run, compareHash)
	for len(k.runs) > 0 && len(k.runs[len(k.runs)-1]) <= len(run) {
		last := k.runs[len(k.runs)-1]
		k.runs = k.runs[:len(k.runs)-1]
		run = mergeHashes(last, run)
	}
	k.runs = append(k.runs, run)
}

// mergeHashes merges two sorted runs that share no hash.
func mergeHashes(a, b [][2]uint64) [][2]uint64 {
	out := make([][2]uint64, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if compareHash(a[0], b[0]) < 0 {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

func compareHash(a, b [2]uint64) int {
	if c := cmp.Compare(a[0], b[0]); c != 0 {
		return c
	}
	return cmp.Compare(a[1], b[1])
}
