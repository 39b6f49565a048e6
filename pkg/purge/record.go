package purge

import (
	"errors"
	"fmt"
	"os/user"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
)

// State is what happened to one target.
type State string

// Target states in output and journal.
const (
	// Purged: the provider confirmed the purge.
	Purged State = "purged"
	// NotCached: the cache answered that it held nothing under the target
	// (a 404 from nginx, Squid or Traffic Server, "0 objects" from xkey).
	// Not a failure, and nothing for --resume to send again.
	NotCached State = "not_cached"
	// Failed: the provider refused it or could not be reached; resume resends it.
	Failed State = "failed"
	// Skipped: never sent (interrupted, or stopped after an auth failure); resume sends it.
	Skipped State = "skipped"
	// Planned: a dry run; nothing was sent.
	Planned State = "planned"
)

// Record is the outcome for one target: one jsonl line of `cachectl purge`.
type Record struct {
	// Target is the URL, tag, prefix or host; "everything" for a purge of everything.
	Target string `json:"target"`
	Kind   Kind   `json:"kind"`
	State  State  `json:"state"`
	// Batch is the batch's sequence number within the run, from 1.
	Batch   int    `json:"batch"`
	PurgeID string `json:"purge_id"`
	// Attempts is how many times the batch's request was tried.
	Attempts int `json:"attempts"`
	// Error says why the target failed or was skipped, or in a dry run why
	// the provider would refuse it; empty when purged.
	Error string `json:"error"`
	// Headers are the cache-key headers of the variant purged, when the
	// target is one combination of them.
	Headers map[string]string `json:"headers,omitempty"`
	// VariantOf names the URL a --variants addition was derived from.
	VariantOf string `json:"variant_of,omitempty"`
	// RelatedTo names the target given whose related rules pulled this one in.
	RelatedTo string `json:"related_to,omitempty"`
	// Stale says why the edge's copy was found out of date (--stale).
	Stale string `json:"stale,omitempty"`
	// Owner is the owner of the configured route the URL matches.
	Owner string `json:"owner,omitempty"`
	// EstimatedSeconds is how long the API expected the purge to take to
	// reach every cache (Akamai); --verify waited that long first.
	EstimatedSeconds int `json:"estimated_seconds,omitempty"`
	// Verify is the check after the purge (--verify), for purged URLs.
	Verify *VerifyRecord `json:"verify,omitempty"`

	// ready is when the purge should have reached every cache; stale
	// that it marked the entry stale rather than evicting it.
	ready time.Time
	stale bool
}

// VerifyRecord is the result of probing a purged URL.
type VerifyRecord struct {
	Cache VerifyCache `json:"cache"`
	// Passed is true when the probe proved the URL is no longer served from cache.
	Passed bool `json:"passed"`
	// Unproven is true when the answer carried no cache status cachectl
	// could read (UNKNOWN): it proves neither eviction nor a hit.
	Unproven bool `json:"unproven,omitempty"`
	// StatusCode is the HTTP status of the probe's answer.
	StatusCode int `json:"status_code,omitempty"`
	// Location is where a redirect answer points: the purged entry is the
	// cached redirect, and the page it leads to is a cache entry of its own.
	Location string `json:"location,omitempty"`
	// Note says what else the probe showed (a redirect whose target was
	// not purged).
	Note string `json:"note,omitempty"`
	// Error explains a failed check.
	Error string `json:"error,omitempty"`
	// WarmMS is the time from the purge check until the cache served the
	// URL again (--warm); absent when it did not within the bound.
	WarmMS *int64 `json:"warm_ms,omitempty"`

	// hint says how to make the cache report its status, when Unproven.
	hint string
}

// VerifyCache is the normalized cache status the probe saw and the header it came from.
type VerifyCache struct {
	Status cachestatus.Status `json:"status"`
	Source string             `json:"source"`
}

// Summary closes a run.
type Summary struct {
	RunID       string `json:"run_id"`
	Environment string `json:"environment"`
	Provider    string `json:"provider"`
	Purged      int    `json:"purged"`
	// NotCached counts targets the cache said it did not hold.
	NotCached int `json:"not_cached"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	Planned   int `json:"planned"`
	// APICalls counts requests sent, retries included.
	APICalls int `json:"api_calls"`
	// Retries counts attempts beyond the first.
	Retries   int   `json:"retries"`
	ElapsedMS int64 `json:"elapsed_ms"`
	// VerifyFailed counts purged URLs still served from cache, or whose
	// eviction could not be proven, after --verify.
	VerifyFailed int `json:"verify_failed"`
	// BatchLimits holds, for each kind whose planned batch size the API
	// refused as too large, the size it accepted; the rest of the run was
	// cut to it. Empty when the API took the planned sizes.
	BatchLimits map[Kind]int `json:"batch_limits,omitempty"`
	// VerifyUnproven counts those of VerifyFailed whose answers carried no
	// readable cache status: neither evicted nor cached could be shown.
	VerifyUnproven int `json:"verify_unproven"`
	// UnprovenHint says how to make the cache report its status, for the
	// first unproven URL's cache.
	UnprovenHint string `json:"-"`
}

// ErrNotPurged is wrapped by Summary.Err when some targets were not
// purged; the command exits 3 and --resume resends them.
var ErrNotPurged = errors.New("some targets were not purged")

// ErrStillCached is wrapped by Summary.Err when every target was purged but
// --verify found URLs still served from cache; the command exits 1.
var ErrStillCached = errors.New("purged URLs are still served from cache")

// ErrUnproven is wrapped by Summary.Err when --verify could not read a
// cache status for some purged URLs, and found none still cached; the
// command exits 1, since the proof asked for is missing.
var ErrUnproven = errors.New("eviction cannot be proven")

// Err reports the outcome of a completed run as an error, nil when every
// target was purged (and verified, with --verify) or planned.
func (s Summary) Err() error {
	if s.Failed+s.Skipped > 0 {
		return fmt.Errorf("purge: %d failed, %d skipped of %d targets in run %s (the journal lists them): %w",
			s.Failed, s.Skipped, s.Purged+s.NotCached+s.Failed+s.Skipped, s.RunID, ErrNotPurged)
	}
	checked := s.Purged + s.NotCached
	if cached := s.VerifyFailed - s.VerifyUnproven; cached > 0 {
		return fmt.Errorf("purge: %d of %d purged URLs failed verification: %w", cached, checked, ErrStillCached)
	}
	if s.VerifyUnproven > 0 {
		return fmt.Errorf("purge: %d of %d purged URLs cannot be proven evicted: the answers carry no cache status header cachectl can read (%s): %w",
			s.VerifyUnproven, checked, s.UnprovenHint, ErrUnproven)
	}
	return nil
}

// RunInfo describes a run for the journal and the summary.
type RunInfo struct {
	// ID is the run id (NewRunID); resumes keep the id of the run they resume.
	ID          string    `json:"run_id"`
	Time        time.Time `json:"time"`
	Environment string    `json:"environment"`
	Provider    string    `json:"provider"`
	Reason      string    `json:"reason,omitempty"`
	User        string    `json:"user,omitempty"`
	DryRun      bool      `json:"dry_run,omitempty"`
	// Soft is a soft purge (mark stale), kept so a resume purges the same way.
	Soft bool `json:"soft,omitempty"`
	// Delete deletes rather than invalidates (Akamai), kept likewise.
	Delete bool `json:"delete,omitempty"`
	// Resume marks a run that resends the pending targets of run ID.
	Resume bool `json:"resume,omitempty"`
}

// NewRunInfo starts describing a new run with a fresh id, the current time
// and the local user name.
func NewRunInfo(environment, provider, reason string) RunInfo {
	now := time.Now().UTC()
	return RunInfo{
		ID:          NewRunID(now),
		Time:        now,
		Environment: environment,
		Provider:    provider,
		Reason:      reason,
		User:        currentUser(),
	}
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
