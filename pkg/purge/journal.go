package purge

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cachectl/cachectl/pkg/secret"
)

// Journal is the append-only record of purge runs, one JSON object per
// line. Every entry is synced to disk before the run reports what it
// records, so an interrupted or crashed run can be resumed exactly. API
// tokens are never written: entries hold targets, states and messages only.
type Journal struct {
	// Scrub removes the run's secrets from every line before it is
	// written (an API's error text may quote the token); nil keeps lines
	// as they are.
	Scrub *secret.Scrubber

	mu   sync.Mutex
	f    *os.File
	path string
}

// EntryType says what a journal line records.
type EntryType string

// Journal entry types.
const (
	EntryStart EntryType = "start"
	EntryPlan  EntryType = "plan"
	EntryBatch EntryType = "batch"
	EntryEnd   EntryType = "end"
)

// journalVersion is written on every line so the format can change later.
// Version 2 lists a run's targets in plan entries, one per batch, after a
// start entry that counts them; version 1 listed them in the start entry,
// and is still read.
const journalVersion = 2

// Entry is one journal line. Exactly one of Start, Plan, Batch and End is
// set, matching Type.
type Entry struct {
	V     int         `json:"v"`
	Type  EntryType   `json:"type"`
	RunID string      `json:"run_id"`
	Time  time.Time   `json:"time"`
	Start *StartEntry `json:"start,omitempty"`
	Plan  *PlanEntry  `json:"plan,omitempty"`
	Batch *BatchEntry `json:"batch,omitempty"`
	End   *EndEntry   `json:"end,omitempty"`
}

// StartEntry opens a run, or a resume of one, with the number of targets
// it will send. The targets follow in plan entries (journals written by
// cachectl before version 2 list them here instead).
type StartEntry struct {
	RunInfo
	TargetCount int             `json:"target_count"`
	Targets     []JournalTarget `json:"targets,omitempty"`
}

// PlanEntry lists the targets of one planned batch, before anything of the
// run is sent.
type PlanEntry struct {
	Seq     int             `json:"seq"`
	Kind    Kind            `json:"kind"`
	Targets []JournalTarget `json:"targets"`
}

// BatchEntry is the outcome of one batch.
type BatchEntry struct {
	Seq  int  `json:"seq"`
	Kind Kind `json:"kind"`
	// Sent is false for a batch that was never sent (interrupted, or
	// stopped after an authentication failure).
	Sent     bool `json:"sent"`
	Attempts int  `json:"attempts"`
	Calls    int  `json:"calls"`
	// BatchLimit is set when the API refused a request of this batch as
	// too large: the size it accepted, to which later batches were cut.
	BatchLimit int `json:"batch_limit,omitempty"`
	// ErrorCode and Error describe a failure of the whole batch.
	ErrorCode string          `json:"error_code,omitempty"`
	Error     string          `json:"error,omitempty"`
	Targets   []JournalTarget `json:"targets"`
}

// EndEntry closes a run.
type EndEntry struct {
	Summary     Summary `json:"summary"`
	Interrupted bool    `json:"interrupted,omitempty"`
	// Error is why the run stopped early (authentication, journal, interrupt).
	Error string `json:"error,omitempty"`
}

// JournalTarget is a target with, in batch entries, its outcome.
type JournalTarget struct {
	Target
	Owner     string `json:"owner,omitempty"`
	State     State  `json:"state,omitempty"`
	PurgeID   string `json:"purge_id,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	Error     string `json:"error,omitempty"`
}

// DefaultJournalPath is $XDG_STATE_HOME/cachectl/journal.jsonl, or
// $HOME/.local/state/cachectl/journal.jsonl when XDG_STATE_HOME is unset;
// lookup reads the environment.
func DefaultJournalPath(lookup func(string) (string, bool)) (string, error) {
	if dir, _ := lookup("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "cachectl", "journal.jsonl"), nil
	}
	home, _ := lookup("HOME")
	if home == "" {
		return "", errors.New("neither XDG_STATE_HOME nor HOME is set")
	}
	return filepath.Join(home, ".local", "state", "cachectl", "journal.jsonl"), nil
}

// OpenJournal opens the journal at path for appending, creating it (mode
// 0600) and its directory (mode 0700) when missing.
func OpenJournal(path string) (*Journal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("purge: create journal directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("purge: open journal: %w", err)
	}
	// A crash in the middle of a write leaves a line without its newline;
	// end it so the next entry starts on a line of its own.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			if _, err := f.Write([]byte{'\n'}); err != nil {
				_ = f.Close()
				return nil, fmt.Errorf("purge: repair journal: %w", err)
			}
		}
	}
	return &Journal{f: f, path: path}, nil
}

// Path is the journal's file name.
func (j *Journal) Path() string { return j.path }

// Close closes the journal file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("purge: close journal: %w", err)
	}
	return nil
}

// Append writes one entry as a single line and syncs it to disk.
func (j *Journal) Append(e Entry) error {
	return j.AppendAll(func(yield func(Entry) bool) { yield(e) })
}

// AppendAll writes entries, each as a single line, and syncs them to disk
// once, after the last.
func (j *Journal) AppendAll(entries iter.Seq[Entry]) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for e := range entries {
		if err := j.write(e); err != nil {
			return err
		}
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("purge: sync journal %s: %w", j.path, err)
	}
	return nil
}

func (j *Journal) write(e Entry) error {
	e.V = journalVersion
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("purge: encode journal entry: %w", err)
	}
	line = append(j.Scrub.Bytes(line), '\n')
	if _, err := j.f.Write(line); err != nil {
		return fmt.Errorf("purge: write journal %s: %w", j.path, err)
	}
	return nil
}

// NewRunID returns a run id that sorts by time and is unique enough for
// one user's journal: "20261126T161200Z-ab12cd".
func NewRunID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// ParseEntry decodes and checks one journal line.
func ParseEntry(line []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("not a journal entry: %w", err)
	}
	if dec.More() {
		return Entry{}, errors.New("not a journal entry: extra data after the object")
	}
	if e.RunID == "" {
		return Entry{}, errors.New("journal entry has no run_id")
	}
	if e.V > journalVersion {
		return Entry{}, fmt.Errorf("journal entry version %d is newer than this cachectl understands (%d)", e.V, journalVersion)
	}
	var ok bool
	switch e.Type {
	case EntryStart:
		ok = e.Start != nil
	case EntryPlan:
		ok = e.Plan != nil
	case EntryBatch:
		ok = e.Batch != nil
	case EntryEnd:
		ok = e.End != nil
	default:
		return Entry{}, fmt.Errorf("unknown journal entry type %q", e.Type)
	}
	if !ok {
		return Entry{}, fmt.Errorf("journal %s entry has no %s object", e.Type, e.Type)
	}
	return e, nil
}

// LineError is a journal line that could not be read. Readers skip it and
// report it as a warning; the rest of the journal stays usable.
type LineError struct {
	Path string
	Line int
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("journal %s line %d skipped: %v", e.Path, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Log is a journal read back in full.
type Log struct {
	Path    string
	Entries []Entry
	// Warnings lists lines that were skipped.
	Warnings []*LineError
}
