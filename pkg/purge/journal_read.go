package purge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"os"
	"sort"
)

// ScanJournal calls fn with each entry of the journal at path, in order, as
// it reads: memory does not grow with the journal. A missing file is an
// empty journal. Corrupt lines are skipped and returned as warnings.
func ScanJournal(path string, fn func(Entry)) ([]*LineError, error) {
	return scanJournal(path, func(e Entry) bool { fn(e); return true })
}

// scanJournal is ScanJournal stopping early when fn returns false.
func scanJournal(path string, fn func(Entry) bool) ([]*LineError, error) {
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
			} else if !fn(e) {
				return warnings, nil
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
// first, at most limit (all when limit <= 0). Per run it keeps 17 bytes
// per target, never the targets themselves.
func Summaries(path string, limit int) ([]RunSummary, []*LineError, error) {
	fo := newFolder()
	warnings, err := ScanJournal(path, fo.add)
	if err != nil {
		return nil, warnings, err
	}
	return fo.runs(limit), warnings, nil
}

// PendingRun is what a resume of a run sends: the targets its journal does
// not show as confirmed purged — failed, skipped, or planned and never
// sent — in their planned order. Targets purged by an earlier resume of
// the same run count as done.
type PendingRun struct {
	// Info describes the run, marked as a resume.
	Info RunInfo
	// Count is the number of targets pending.
	Count int
	// Targets yields them, read from the journal again; an error reading
	// it ends the sequence.
	Targets iter.Seq2[Target, error]
}

// PendingStream reads the journal at path and returns what a resume of
// run runID sends, with the lines it had to skip. It keeps 17 bytes per
// target of the journal while reading, never the targets themselves:
// those are read again as Targets is iterated.
func PendingStream(path, runID string) (*PendingRun, []*LineError, error) {
	fo := newFolder()
	warnings, err := ScanJournal(path, fo.add)
	if err != nil {
		return nil, warnings, err
	}
	pr, err := fo.pending(runID, path)
	if err != nil {
		return nil, warnings, err
	}
	pr.Targets = func(yield func(Target, error) bool) {
		each := fo.pendingTargets(runID, yield)
		if _, err := scanJournal(path, each); err != nil {
			yield(Target{}, err)
		}
	}
	return pr, warnings, nil
}

// Pending is PendingStream with the targets collected.
func Pending(path, runID string) ([]Target, RunInfo, []*LineError, error) {
	pr, warnings, err := PendingStream(path, runID)
	if err != nil {
		return nil, RunInfo{}, warnings, err
	}
	targets, err := collectTargets(pr.Targets)
	return targets, pr.Info, warnings, err
}

func collectTargets(seq iter.Seq2[Target, error]) ([]Target, error) {
	var out []Target
	for t, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Runs lists the most recent runs first, at most limit (all when limit <= 0).
func (l *Log) Runs(limit int) []RunSummary {
	fo := newFolder()
	for _, e := range l.Entries {
		fo.add(e)
	}
	return fo.runs(limit)
}

// Pending is the package's Pending for a journal read in full.
func (l *Log) Pending(runID string) ([]Target, RunInfo, error) {
	fo := newFolder()
	for _, e := range l.Entries {
		fo.add(e)
	}
	pr, err := fo.pending(runID, l.Path)
	if err != nil {
		return nil, RunInfo{}, err
	}
	var out []Target
	each := fo.pendingTargets(runID, func(t Target, _ error) bool {
		out = append(out, t)
		return true
	})
	for _, e := range l.Entries {
		each(e)
	}
	return out, pr.Info, nil
}

// Per-target flags of a run.
const (
	targetDone   uint8 = 1 << iota // confirmed purged, by the run or a resume
	targetFailed                   // the last attempt failed
)

// folder folds journal entries into runs as they are read, keeping a
// 128-bit hash of each target (keySet) and its flags.
type folder struct {
	s1, s2 maphash.Seed
	byID   map[string]*runState
	order  []string
}

// runState is one run id's entries folded together.
type runState struct {
	info  RunInfo
	flags map[[2]uint64]uint8
	// want is the number of targets the run's start entry announced;
	// a plan journaled in full lists as many.
	want    int
	resumes int
	ended   bool
	interr  bool
}

func newFolder() *folder {
	return &folder{s1: maphash.MakeSeed(), s2: maphash.MakeSeed(), byID: map[string]*runState{}}
}

func (fo *folder) key(t Target) [2]uint64 {
	k := targetKey(t)
	return [2]uint64{maphash.String(fo.s1, k), maphash.String(fo.s2, k)}
}

func (fo *folder) add(e Entry) {
	rs := fo.byID[e.RunID]
	if rs == nil {
		if e.Type != EntryStart {
			return // a run whose start line was lost cannot be listed
		}
		rs = &runState{flags: map[[2]uint64]uint8{}}
		fo.byID[e.RunID] = rs
		fo.order = append(fo.order, e.RunID)
	}
	switch e.Type {
	case EntryStart:
		fo.start(rs, e)
	case EntryPlan:
		fo.plan(rs, e.Plan.Targets)
	case EntryBatch:
		for _, t := range e.Batch.Targets {
			k := fo.key(t.Target)
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
		rs.want = e.Start.TargetCount
	}
	rs.ended, rs.interr = false, false
	fo.plan(rs, e.Start.Targets)
}

// plan notes targets a run plans to send.
func (fo *folder) plan(rs *runState, targets []JournalTarget) {
	for _, t := range targets {
		k := fo.key(t.Target)
		if _, ok := rs.flags[k]; !ok {
			rs.flags[k] = 0
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

// pending checks that run runID can be resumed and counts its pending
// targets.
func (fo *folder) pending(runID, path string) (*PendingRun, error) {
	rs := fo.byID[runID]
	if rs == nil {
		return nil, inputErrorf("purge: no run %s in journal %s; `cachectl purge log` lists runs", runID, path)
	}
	if rs.info.DryRun {
		return nil, inputErrorf("purge: run %s was a dry run; nothing was sent, so there is nothing to resume", runID)
	}
	if len(rs.flags) < rs.want {
		return nil, inputErrorf("purge: run %s planned %d targets, but its journal lists only %d: it stopped while journaling its plan, before sending anything; run the purge again instead of resuming it", runID, rs.want, len(rs.flags))
	}
	pr := &PendingRun{Info: rs.info}
	pr.Info.Resume = true
	for _, f := range rs.flags {
		if f&targetDone == 0 {
			pr.Count++
		}
	}
	return pr, nil
}

// pendingTargets returns a function that, given the journal's entries
// again, yields each planned target of run runID not done, once.
func (fo *folder) pendingTargets(runID string, yield func(Target, error) bool) func(Entry) bool {
	rs := fo.byID[runID]
	yielded := newKeySet()
	return func(e Entry) bool {
		if e.RunID != runID {
			return true
		}
		var targets []JournalTarget
		switch {
		case e.Type == EntryStart:
			targets = e.Start.Targets
		case e.Type == EntryPlan:
			targets = e.Plan.Targets
		}
		for _, t := range targets {
			k := fo.key(t.Target)
			if rs.flags[k]&targetDone != 0 || !yielded.addHash(k) {
				continue
			}
			if !yield(t.Target, nil) {
				return false
			}
		}
		return true
	}
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
