package purge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"sort"
)

// ScanJournal calls fn with each entry of the journal at path, in order, as
// it reads: memory does not grow with the journal. A missing file is an
// empty journal. Corrupt lines are skipped and returned as warnings.
func ScanJournal(path string, fn func(Entry)) ([]*LineError, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("purge: open journal: %w", err)
	}
	defer f.Close()
	var warnings []*LineError
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if e, perr := ParseEntry(line); perr != nil {
				warnings = append(warnings, &LineError{Path: path, Line: n, Err: perr})
			} else {
				fn(e)
			}
		}
		if err == io.EOF {
			return warnings, nil
		}
		if err != nil {
			return warnings, fmt.Errorf("purge: read journal %s line %d: %w", path, n, err)
		}
	}
}

// ReadJournal reads every entry of the journal at path into memory.
func ReadJournal(path string) (*Log, error) {
	l := &Log{Path: path}
	warnings, err := ScanJournal(path, func(e Entry) { l.Entries = append(l.Entries, e) })
	if err != nil {
		return nil, err
	}
	l.Warnings = warnings
	return l, nil
}

// Summaries streams the journal at path and lists its runs, most recent
// first, at most limit (all when limit <= 0). Per run it keeps a few bytes
// per target, never the targets themselves.
func Summaries(path string, limit int) ([]RunSummary, []*LineError, error) {
	fo := newFolder("")
	warnings, err := ScanJournal(path, fo.add)
	if err != nil {
		return nil, warnings, err
	}
	return fo.runs(limit), warnings, nil
}

// Pending reads the journal at path and returns the targets of run runID
// that are not confirmed purged, with the lines it had to skip. Only that
// run's targets are kept while reading.
func Pending(path, runID string) ([]Target, RunInfo, []*LineError, error) {
	fo := newFolder(runID)
	warnings, err := ScanJournal(path, fo.add)
	if err != nil {
		return nil, RunInfo{}, warnings, err
	}
	targets, info, err := fo.pending(runID, path)
	return targets, info, warnings, err
}

// Runs lists the most recent runs first, at most limit (all when limit <= 0).
func (l *Log) Runs(limit int) []RunSummary {
	fo := newFolder("")
	for _, e := range l.Entries {
		fo.add(e)
	}
	return fo.runs(limit)
}

// Pending returns the targets of run runID that were not confirmed purged
// — failed, skipped, or planned and never sent — in their original order,
// and the run's description marked as a resume. Targets purged by an
// earlier resume of the same run count as done.
func (l *Log) Pending(runID string) ([]Target, RunInfo, error) {
	fo := newFolder(runID)
	for _, e := range l.Entries {
		fo.add(e)
	}
	return fo.pending(runID, l.Path)
}

// Per-target flags of a run.
const (
	targetDone   uint8 = 1 << iota // confirmed purged, by the run or a resume
	targetFailed                   // the last attempt failed
)

// folder folds journal entries into runs as they are read.
type folder struct {
	keep  string // the run whose targets are kept in full ("" for none)
	byID  map[string]*runState
	order []string
}

// runState is one run id's entries folded together. Targets are keyed by
// their exact key in the kept run and by a 64-bit hash of it otherwise.
type runState struct {
	info    RunInfo
	flags   map[string]uint8
	targets []Target // the kept run's targets, in first-seen order
	resumes int
	ended   bool
	interr  bool
}

func newFolder(keep string) *folder {
	return &folder{keep: keep, byID: map[string]*runState{}}
}

func (fo *folder) key(runID string, t Target) string {
	k := targetKey(t)
	if runID == fo.keep {
		return k
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(k))
	return string(h.Sum(nil))
}

func (fo *folder) add(e Entry) {
	rs := fo.byID[e.RunID]
	if rs == nil {
		if e.Type != EntryStart {
			return // a run whose start line was lost cannot be listed
		}
		rs = &runState{flags: map[string]uint8{}}
		fo.byID[e.RunID] = rs
		fo.order = append(fo.order, e.RunID)
	}
	switch e.Type {
	case EntryStart:
		fo.start(rs, e)
	case EntryBatch:
		for _, t := range e.Batch.Targets {
			k := fo.key(e.RunID, t.Target)
			f := rs.flags[k] &^ targetFailed
			switch t.State {
			case Purged, NotCached:
				f |= targetDone
			case Failed:
				f |= targetFailed
			}
			rs.flags[k] = f
		}
	case EntryEnd:
		rs.ended, rs.interr = true, e.End.Interrupted
	}
}

func (fo *folder) start(rs *runState, e Entry) {
	if e.Start.Resume && rs.info.ID != "" {
		rs.resumes++
	} else {
		rs.info = e.Start.RunInfo
		rs.info.ID = e.RunID
	}
	rs.ended, rs.interr = false, false
	for _, t := range e.Start.Targets {
		k := fo.key(e.RunID, t.Target)
		if _, ok := rs.flags[k]; ok {
			continue
		}
		rs.flags[k] = 0
		if e.RunID == fo.keep {
			rs.targets = append(rs.targets, t.Target)
		}
	}
}

func (fo *folder) runs(limit int) []RunSummary {
	out := make([]RunSummary, 0, len(fo.order))
	for _, id := range fo.order {
		out = append(out, fo.byID[id].summary())
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (rs *runState) summary() RunSummary {
	s := RunSummary{RunInfo: rs.info, Targets: len(rs.flags), Resumes: rs.resumes}
	for _, f := range rs.flags {
		switch {
		case f&targetDone != 0:
			s.Purged++
		case f&targetFailed != 0:
			s.Failed++
		}
	}
	s.Pending = s.Targets - s.Purged
	switch {
	case rs.info.DryRun:
		s.Status, s.Pending = "dry-run", 0
	case !rs.ended:
		s.Status = "unfinished"
	case rs.interr:
		s.Status = "interrupted"
	case s.Pending > 0:
		s.Status = "incomplete"
	default:
		s.Status = "complete"
	}
	return s
}

func (fo *folder) pending(runID, path string) ([]Target, RunInfo, error) {
	rs := fo.byID[runID]
	if rs == nil {
		return nil, RunInfo{}, inputErrorf("purge: no run %s in journal %s; `cachectl purge log` lists runs", runID, path)
	}
	if rs.info.DryRun {
		return nil, RunInfo{}, inputErrorf("purge: run %s was a dry run; nothing was sent, so there is nothing to resume", runID)
	}
	var out []Target
	for _, t := range rs.targets {
		if rs.flags[targetKey(t)]&targetDone == 0 {
			out = append(out, t)
		}
	}
	info := rs.info
	info.Resume = true
	return out, info, nil
}

// RunSummary is one run as `purge log` lists it, resumes folded in.
type RunSummary struct {
	// RunInfo is how the run was started (not its resumes).
	RunInfo
	Targets int `json:"targets"`
	Purged  int `json:"purged"`
	Failed  int `json:"failed"`
	// Pending counts targets --resume would send.
	Pending int `json:"pending"`
	Resumes int `json:"resumes"`
	// Status is complete, incomplete (some not purged), interrupted,
	// unfinished (no end entry: the process died) or dry-run.
	Status string `json:"status"`
}
