package purge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"
)

// Runner sends planned batches through a provider: throttled, journaled,
// reported target by target and, with a Verifier, checked afterwards.
type Runner struct {
	// Provider sends the batches; wrap it with DryRun to send nothing.
	Provider Provider
	// Limits throttle requests (NewLimits); nil sends as fast as the provider answers.
	Limits *Limits
	// Journal records the run; nil keeps no journal (and no --resume).
	Journal *Journal
	// Verifier, when set, probes every purged URL afterwards (--verify).
	Verifier Verifier
	// Verify tunes the check after the purge.
	Verify VerifyOptions
	// Logger receives progress details and warnings; nil discards them.
	// Messages do not name the environment or provider: give a logger
	// that does (slog.Logger.With).
	Logger *slog.Logger
	// OnResult receives one Record per target as soon as it is final: after
	// its batch is journaled and, with a Verifier, after its check. Calls
	// are serialized.
	OnResult func(Record)
	// Progress is told how many of the run's targets are final.
	Progress func(done, total int)
	// Owner returns the owner of the configured route a URL matches, or "".
	Owner func(url string) string
	// Redirects, when set with a Verifier, is asked about the target of
	// each redirect a purged URL answered at verification: the URL it
	// returns (canonical; "" leaves the target alone) is purged too, after
	// the run's batches, related to the URL that redirected. One hop: the
	// targets' own redirects are only noted.
	Redirects func(location string) string
}

// Run sends batches in order and returns the run's summary.
//
// Each batch waits for the rate limits, is sent, and its outcome is synced
// to the journal before its records are reported. A failure of one batch
// marks its targets failed and the run goes on — except an authentication
// failure, which stops the run: the remaining batches are recorded as
// skipped and the error is returned. When ctx is cancelled the run stops
// between batches, records what was not sent, closes the journal entry for
// the run and returns ctx.Err(). Otherwise the error is nil and
// Summary.Err tells whether every target was purged (and verified).
func (r *Runner) Run(ctx context.Context, run RunInfo, batches []Batch) (Summary, error) {
	start := time.Now()
	s := &session{r: r, log: r.logger(), runID: run.ID, known: map[string]bool{}, sum: Summary{
		RunID: run.ID, Environment: run.Environment, Provider: r.Provider.Name(),
	}}
	_, dry := r.Provider.(*dryRunProvider)
	if run.DryRun && !dry {
		return s.sum, errors.New("purge: a dry run needs a provider wrapped with DryRun")
	}
	run.DryRun = dry
	if run.Provider == "" {
		run.Provider = r.Provider.Name()
	}
	batches = s.prepare(run, batches)
	if err := s.journalStart(run, batches); err != nil {
		return s.sum, err
	}
	stopErr := s.send(ctx, batches)
	if dry && stopErr == nil {
		s.planNote(batches)
	}
	s.verifying.Wait()
	if stopErr == nil && !dry {
		stopErr = s.followRedirects(ctx, s.lastSeq)
	}

	s.mu.Lock()
	s.sum.ElapsedMS = time.Since(start).Milliseconds()
	sum := s.sum
	s.mu.Unlock()
	end := &EndEntry{Summary: sum}
	if stopErr != nil {
		end.Error = stopErr.Error()
		end.Interrupted = ctx.Err() != nil
	}
	if err := s.journal(Entry{Type: EntryEnd, RunID: run.ID, End: end}); err != nil && stopErr == nil {
		stopErr = err
	}
	s.log.Info("purge run finished", "run_id", run.ID, "purged", sum.Purged, "failed", sum.Failed,
		"skipped", sum.Skipped, "planned", sum.Planned, "api_calls", sum.APICalls, "retries", sum.Retries,
		"verify_failed", sum.VerifyFailed, "elapsed_ms", sum.ElapsedMS)
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	return sum, stopErr
}

// count notes the targets of batches: how many, soft or not, which URLs.
func (s *session) count(batches []Batch) {
	for _, b := range batches {
		s.total += len(b.Targets)
		s.soft = s.soft || b.Soft
		s.limits[b.Kind] = s.r.Provider.BatchLimit(b.Kind)
		for _, t := range b.Targets {
			if t.Kind == KindEverything {
				s.log.Warn("purging everything")
			}
			if t.Kind == KindURL {
				s.known[t.Value] = true
			}
		}
	}
}

// followRedirects purges the redirect targets Runner.Redirects chose, as
// batches numbered after seq, and waits for their verification.
func (s *session) followRedirects(ctx context.Context, seq int) error {
	s.mu.Lock()
	extra := s.redirects
	s.redirects, s.followed = nil, true
	s.mu.Unlock()
	if len(extra) == 0 {
		return nil
	}
	batches, err := Plan(s.r.Provider, extra, s.soft)
	if err != nil {
		return err
	}
	for i := range batches {
		batches[i].Seq = seq + i + 1
		batches[i].Run = s.runID
	}
	s.mu.Lock()
	s.count(batches)
	s.mu.Unlock()
	s.log.Info("purging the targets of purged redirects", "urls", len(extra))
	err = s.send(ctx, batches)
	s.verifying.Wait()
	return err
}

// send sends batches in order, as Run describes, and returns why it
// stopped early: cancellation, a journal that cannot be written or refused
// credentials; nil when every batch was sent.
func (s *session) send(ctx context.Context, batches []Batch) error {
	_, dry := s.r.Provider.(*dryRunProvider)
	var stopErr error
	var notSent []Batch
	var notSentWhy string
	for i := 0; i < len(batches); i++ {
		b := batches[i]
		if err := ctx.Err(); err != nil {
			stopErr, notSent, notSentWhy = err, batches[i:], "not sent: interrupted"
			break
		}
		if dry {
			s.planned(ctx, b)
			continue
		}
		if err := s.r.Limits.Wait(ctx, b); err != nil {
			stopErr, notSent, notSentWhy = err, batches[i:], "not sent: interrupted"
			break
		}
		s.log.Debug("sending batch", "batch", b.Seq, "kind", b.Kind, "targets", len(b.Targets))
		res, err := s.r.Provider.Purge(ctx, b)
		entry, recs := s.outcome(ctx, b, res, err)
		if lowered := s.lowered(b.Kind); lowered > 0 {
			entry.Batch.BatchLimit = lowered
			batches = refit(s.r.Provider, batches, i+1)
		}
		if jerr := s.journal(entry); jerr != nil {
			// What happened did happen: report it, then stop, because
			// nothing more may be sent that a resume could not see.
			s.report(ctx, recs)
			stopErr, notSent, notSentWhy = jerr, batches[i+1:], "not sent: the journal could not be written"
			break
		}
		s.report(ctx, recs)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			stopErr, notSent, notSentWhy = ctx.Err(), batches[i+1:], "not sent: interrupted"
			break
		}
		if isAuthError(err) {
			stopErr, notSent = err, batches[i+1:]
			notSentWhy = fmt.Sprintf("not sent: stopped after authentication failed in batch %d", b.Seq)
			break
		}
	}
	for _, b := range notSent {
		s.skip(ctx, b, notSentWhy)
	}
	if len(batches) > 0 {
		// refit may have renumbered the batches after a lowered limit.
		s.lastSeq = batches[len(batches)-1].Seq
	}
	return stopErr
}

// lowered reports the provider's new batch limit for kind when it went
// down since the last batch (the API refused a request as too large), and
// records it in the summary; 0 when it did not.
func (s *session) lowered(kind Kind) int {
	now := s.r.Provider.BatchLimit(kind)
	if now < 1 || now >= s.limits[kind] {
		return 0
	}
	s.limits[kind] = now
	s.mu.Lock()
	if s.sum.BatchLimits == nil {
		s.sum.BatchLimits = map[Kind]int{}
	}
	s.sum.BatchLimits[kind] = now
	s.mu.Unlock()
	s.log.Info("the API refused larger batches; the rest of the run sends fewer targets per request", "kind", kind, "batch_limit", now)
	return now
}

// refit cuts the batches from index from on again after the provider
// lowered a batch limit: the consecutive batches of one group (kind,
// cache-key headers, soft, delete) are merged and cut at the group's
// limit, so the rest of the run sends as few requests as the API allows.
// Batches are renumbered in order.
func refit(p Provider, batches []Batch, from int) []Batch {
	out := batches[:from:from]
	for i := from; i < len(batches); {
		j := i + 1
		for j < len(batches) && sameGroup(batches[i], batches[j]) {
			j++
		}
		group := batches[i:j]
		limit := p.BatchLimit(group[0].Kind)
		if limit < 1 || !slices.ContainsFunc(group, func(b Batch) bool { return len(b.Targets) > limit }) {
			out = append(out, group...)
			i = j
			continue
		}
		var targets []Target
		for _, b := range group {
			targets = append(targets, b.Targets...)
		}
		for chunk := range slices.Chunk(targets, limit) {
			b := group[0]
			b.Targets = chunk
			out = append(out, b)
		}
		i = j
	}
	for k := max(from, 1); k < len(out); k++ {
		out[k].Seq = out[k-1].Seq + 1
	}
	return out
}

// sameGroup reports whether two batches were planned from one group of
// targets and may be merged.
func sameGroup(a, b Batch) bool {
	if a.Kind != b.Kind || a.Soft != b.Soft || a.Delete != b.Delete || len(a.Targets) == 0 || len(b.Targets) == 0 {
		return false
	}
	return capabilityFor(a.Targets[0]) == capabilityFor(b.Targets[0])
}

func (r *Runner) logger() *slog.Logger {
	return Deps{Logger: r.Logger}.Log()
}

// session is the state of one Run.
type session struct {
	r     *Runner
	log   *slog.Logger
	runID string
	total int
	// limits is the provider's batch limit per kind as last seen.
	limits map[Kind]int
	// lastSeq is the number of the last batch send was given.
	lastSeq int
	// soft relaxes verification: a soft purge leaves entries served stale.
	soft bool

	mu        sync.Mutex // guards sum, done and OnResult calls
	sum       Summary
	done      int
	verifying sync.WaitGroup
	verifySem chan struct{}
	// completions are the waits for purges to complete before their URLs
	// are verified (Completer), by purge id.
	completions map[string]*completion
	// known holds the URLs the run purges; redirects the targets of
	// redirects to purge after them (Runner.Redirects), until followed.
	known     map[string]bool
	redirects []Target
	followed  bool
}

// prepare notes whether the run is soft, counts its targets (count) and
// returns the batches stamped with the run's id.
func (s *session) prepare(run RunInfo, batches []Batch) []Batch {
	s.soft = run.Soft
	s.limits = map[Kind]int{}
	out := make([]Batch, len(batches))
	for i, b := range batches {
		b.Run = run.ID
		out[i] = b
	}
	s.count(out)
	return out
}

func (s *session) journal(e Entry) error {
	if s.r.Journal == nil {
		return nil
	}
	return s.r.Journal.Append(e)
}

func (s *session) journalStart(run RunInfo, batches []Batch) error {
	st := &StartEntry{RunInfo: run, TargetCount: s.total, Targets: make([]JournalTarget, 0, s.total)}
	for _, b := range batches {
		for _, t := range b.Targets {
			st.Targets = append(st.Targets, JournalTarget{Target: t, Owner: s.owner(t)})
		}
	}
	return s.journal(Entry{Type: EntryStart, RunID: run.ID, Start: st})
}

func (s *session) owner(t Target) string {
	if s.r.Owner == nil || t.Kind != KindURL {
		return ""
	}
	return s.r.Owner(t.Value)
}

// outcome turns a provider's answer for batch b into its journal entry and
// its records, one per target in batch order.
func (s *session) outcome(ctx context.Context, b Batch, res BatchResult, err error) (Entry, []Record) {
	attempts := max(res.Attempts, 1)
	calls := res.Calls
	if calls == 0 && err == nil {
		calls = 1
	}
	s.mu.Lock()
	s.sum.APICalls += calls
	s.sum.Retries += attempts - 1
	s.mu.Unlock()

	be := &BatchEntry{Seq: b.Seq, Kind: b.Kind, Sent: true, Attempts: attempts, Calls: calls}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted before the provider confirmed: %w", err)
		}
		be.ErrorCode, be.Error = errorCode(err), err.Error()
		if IsAuthError(err) {
			// The run stops with this error, which is shown once, at the end.
			s.log.Debug("batch failed", "batch", b.Seq, "kind", b.Kind, "targets", len(b.Targets), "error", err)
		} else {
			s.log.Warn("batch failed", "batch", b.Seq, "kind", b.Kind, "targets", len(b.Targets), "error", err)
		}
	}
	byKey := map[string]TargetResult{}
	if len(res.Results) != len(b.Targets) {
		for _, tr := range res.Results {
			byKey[targetKey(tr.Target)] = tr
		}
	}
	recs := make([]Record, len(b.Targets))
	be.Targets = make([]JournalTarget, len(b.Targets))
	ready := time.Now().Add(res.Estimate)
	estimated := int(math.Ceil(res.Estimate.Seconds()))
	for i, t := range b.Targets {
		var tr TargetResult
		found := false
		if len(res.Results) == len(b.Targets) {
			tr, found = res.Results[i], true
		} else {
			tr, found = byKey[targetKey(t)]
		}
		jt := s.verdict(t, tr, found, be, err)
		be.Targets[i] = jt
		recs[i] = newRecord(t, jt.State, b.Seq, jt.Owner)
		recs[i].PurgeID, recs[i].Attempts, recs[i].Error = jt.PurgeID, attempts, jt.Error
		recs[i].ready, recs[i].stale = ready, res.Stale
		if jt.State == Purged {
			recs[i].EstimatedSeconds = estimated
		}
	}
	return Entry{Type: EntryBatch, RunID: s.runID, Batch: be}, recs
}

// verdict is what the journal records for target t of batch entry be:
// the batch's failure, the provider's result tr (found is false when it
// returned none for t), or purged.
func (s *session) verdict(t Target, tr TargetResult, found bool, be *BatchEntry, batchErr error) JournalTarget {
	jt := JournalTarget{Target: t, Owner: s.owner(t), State: Purged}
	switch {
	case batchErr != nil:
		jt.State, jt.ErrorCode, jt.Error = Failed, be.ErrorCode, be.Error
	case !found:
		jt.State, jt.Error = Failed, "the provider returned no result for this target"
	case tr.Err != nil:
		jt.State, jt.ErrorCode, jt.Error, jt.PurgeID = Failed, errorCode(tr.Err), tr.Err.Error(), tr.PurgeID
	case tr.NotCached:
		jt.State, jt.PurgeID = NotCached, tr.PurgeID
	default:
		jt.PurgeID = tr.PurgeID
	}
	return jt
}

// skip records a batch that was not sent.
func (s *session) skip(ctx context.Context, b Batch, why string) {
	be := &BatchEntry{Seq: b.Seq, Kind: b.Kind, Error: why, Targets: make([]JournalTarget, len(b.Targets))}
	recs := make([]Record, len(b.Targets))
	for i, t := range b.Targets {
		jt := JournalTarget{Target: t, Owner: s.owner(t), State: Skipped, Error: why}
		be.Targets[i] = jt
		recs[i] = newRecord(t, Skipped, b.Seq, jt.Owner)
		recs[i].Error = why
	}
	if err := s.journal(Entry{Type: EntryBatch, RunID: s.runID, Batch: be}); err != nil {
		s.log.Warn("journal: could not record a batch that was not sent; it stays pending for --resume", "batch", b.Seq, "error", err)
	}
	s.report(ctx, recs)
}

// planned reports a dry-run batch: the wrapper prints its requests.
func (s *session) planned(ctx context.Context, b Batch) {
	res, err := s.r.Provider.Purge(ctx, b)
	if err != nil {
		s.log.Warn("dry run: describe batch", "batch", b.Seq, "error", err)
	}
	recs := make([]Record, len(b.Targets))
	for i, t := range b.Targets {
		recs[i] = newRecord(t, Planned, b.Seq, s.owner(t))
		if i < len(res.Results) && res.Results[i].Err != nil {
			recs[i].Error = res.Results[i].Err.Error()
		}
	}
	s.report(ctx, recs)
}

// report hands records on, sending purged URLs through verification
// first; so are URLs the cache said it did not hold, since a purge that
// named another variant than visitors get is answered that way too.
func (s *session) report(ctx context.Context, recs []Record) {
	for _, rec := range recs {
		done := rec.State == Purged || rec.State == NotCached
		if s.r.Verifier != nil && done && rec.Kind == KindURL && ctx.Err() == nil {
			s.verifyAsync(ctx, rec)
			continue
		}
		s.emit(rec)
	}
}

func (s *session) emit(rec Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch rec.State {
	case Purged:
		s.sum.Purged++
	case NotCached:
		s.sum.NotCached++
	case Failed:
		s.sum.Failed++
	case Skipped:
		s.sum.Skipped++
	case Planned:
		s.sum.Planned++
	}
	s.noteRedirect(rec)
	if rec.Verify != nil && !rec.Verify.Passed {
		s.sum.VerifyFailed++
		if rec.Verify.Unproven {
			s.sum.VerifyUnproven++
			if s.sum.UnprovenHint == "" {
				s.sum.UnprovenHint = rec.Verify.hint
			}
		}
	}
	s.done++
	if s.r.OnResult != nil {
		s.r.OnResult(rec)
	}
	if s.r.Progress != nil {
		s.r.Progress(s.done, s.total)
	}
}

// noteRedirect handles the target of a redirect rec's check saw: the note
// says so when the run purges it anyway, and it is queued when
// Runner.Redirects wants it purged. s.mu is held.
func (s *session) noteRedirect(rec Record) {
	v := rec.Verify
	if v == nil || v.Location == "" {
		return
	}
	target, follow := v.Location, ""
	if s.r.Redirects != nil && !s.followed {
		if follow = s.r.Redirects(v.Location); follow != "" {
			target = follow
		}
	}
	switch {
	case s.known[target]:
		v.Note = "purged the cached redirect; its target " + target + " is purged in this run too"
	case follow != "":
		s.known[follow] = true
		s.redirects = append(s.redirects, Target{Kind: KindURL, Value: follow, Headers: rec.Headers, RelatedTo: rec.Target})
		v.Note = "purged the cached redirect; its target " + follow + " is purged after it (--related)"
	}
}

// newRecord starts the record of target t of batch seq in state st.
func newRecord(t Target, st State, seq int, owner string) Record {
	return Record{
		Target: displayTarget(t), Kind: t.Kind, State: st, Batch: seq, Owner: owner,
		Headers: t.Headers, VariantOf: t.VariantOf, RelatedTo: t.RelatedTo, Stale: t.Stale,
	}
}

// displayTarget is how a target appears in output.
func displayTarget(t Target) string {
	if t.Kind == KindEverything {
		return "everything"
	}
	return t.Value
}
