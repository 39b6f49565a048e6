package purge

import (
	"context"
	"errors"
	"fmt"
	"iter"
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

// Run is RunPlan for batches held in memory.
func (r *Runner) Run(ctx context.Context, run RunInfo, batches []Batch) (Summary, error) {
	return r.RunPlan(ctx, run, PlanOf(batches))
}

// RunPlan sends a plan's batches in order and returns the run's summary.
//
// The whole plan is journaled before the first batch is sent. Each batch
// waits for the rate limits, is sent, and its outcome is synced to the
// journal before its records are reported. A failure of one batch marks
// its targets failed and the run goes on — except an authentication
// failure, which stops the run: the remaining batches are recorded as
// skipped and the error is returned. When ctx is cancelled the run stops
// between batches, records what was not sent, closes the journal entry for
// the run and returns ctx.Err(). Otherwise the error is nil and
// Summary.Err tells whether every target was purged (and verified).
func (r *Runner) RunPlan(ctx context.Context, run RunInfo, plan *BatchPlan) (Summary, error) {
	start := time.Now()
	s := &session{r: r, log: r.logger(), runID: run.ID, known: newKeySet(), sum: Summary{
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
	s.prepare(run, plan)
	if err := s.journalStart(run, plan); err != nil {
		return s.sum, err
	}
	stopErr := s.send(ctx, plan.All())
	if stopErr == nil {
		stopErr = plan.Err()
	}
	if dry && stopErr == nil {
		s.planNote(plan)
	}
	s.verifying.Wait()
	if stopErr == nil && !dry {
		stopErr = s.followRedirects(ctx, s.lastSeq)
	}
	return s.finish(ctx, run, start, stopErr)
}

// finish journals the end of the run and logs its summary.
func (s *session) finish(ctx context.Context, run RunInfo, start time.Time, stopErr error) (Summary, error) {
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

// knowURLs notes the URLs of batches, which a redirect seen at
// verification may name (noteRedirect).
func (s *session) knowURLs(batches iter.Seq[Batch]) {
	for b := range batches {
		for _, t := range b.Targets {
			if t.Kind == KindURL {
				s.known.add(t.Value)
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
	}
	s.mu.Lock()
	s.total += len(extra)
	s.knowURLs(slices.Values(batches))
	s.mu.Unlock()
	s.log.Info("purging the targets of purged redirects", "urls", len(extra))
	err = s.send(ctx, slices.Values(batches))
	s.verifying.Wait()
	return err
}

// send sends batches in order, as RunPlan describes, and returns why it
// stopped early: cancellation, a journal that cannot be written or refused
// credentials; nil when every batch was sent.
func (s *session) send(ctx context.Context, batches iter.Seq[Batch]) error {
	next, stop := iter.Pull(batches)
	defer stop()
	rb := &rebatcher{p: s.r.Provider, next: next}
	var stopErr error
	notSentWhy := ""
	for {
		b, ok := rb.pull()
		if !ok {
			break
		}
		if _, seen := s.limits[b.Kind]; !seen {
			s.limits[b.Kind] = s.r.Provider.BatchLimit(b.Kind)
			if b.Kind == KindEverything {
				s.log.Warn("purging everything")
			}
		}
		b.Run = s.runID
		if notSentWhy, stopErr = s.sendOne(ctx, b); stopErr != nil {
			break
		}
	}
	if stopErr != nil {
		for b, ok := rb.pull(); ok; b, ok = rb.pull() {
			b.Run = s.runID
			s.skip(ctx, b, notSentWhy)
		}
	}
	if rb.last > 0 {
		s.lastSeq = rb.last
	}
	return stopErr
}

// sendOne sends batch b (a dry run only describes it) and reports it.
// When the run must stop it returns why, with the reason the batches left
// are recorded as not sent; b itself is recorded either way.
func (s *session) sendOne(ctx context.Context, b Batch) (string, error) {
	const interrupted = "not sent: interrupted"
	if err := ctx.Err(); err != nil {
		s.skip(ctx, b, interrupted)
		return interrupted, err
	}
	if _, dry := s.r.Provider.(*dryRunProvider); dry {
		s.planned(ctx, b)
		return "", nil
	}
	if err := s.r.Limits.Wait(ctx, b); err != nil {
		s.skip(ctx, b, interrupted)
		return interrupted, err
	}
	s.log.Debug("sending batch", "batch", b.Seq, "kind", b.Kind, "targets", len(b.Targets))
	res, err := s.r.Provider.Purge(ctx, b)
	entry, recs := s.outcome(ctx, b, res, err)
	if lowered := s.lowered(b.Kind); lowered > 0 {
		entry.Batch.BatchLimit = lowered
	}
	jerr := s.journal(entry)
	// What happened did happen: report it, even when it could not be
	// journaled; then stop, because nothing more may be sent that a
	// resume could not see.
	s.report(ctx, recs)
	switch {
	case jerr != nil:
		return "not sent: the journal could not be written", jerr
	case err == nil:
		return "", nil
	case ctx.Err() != nil:
		return interrupted, ctx.Err()
	case isAuthError(err):
		return fmt.Sprintf("not sent: stopped after authentication failed in batch %d", b.Seq), err
	}
	return "", nil
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

// rebatcher yields a plan's batches in order, cut again once the provider
// lowered a batch limit during the run (the API refused a request as too
// large): the consecutive batches of one group (kind, cache-key headers,
// soft, delete) are merged and cut at the group's new limit, so the rest
// of the run sends as few requests as the API allows. Batches are
// numbered one after the other.
type rebatcher struct {
	p    Provider
	next func() (Batch, bool)
	// held is a batch read ahead that belongs to another group; carry the
	// targets of group cur still to send.
	held  *Batch
	cur   Batch
	carry []Target
	// last is the number of the last batch yielded.
	last int
}

func (r *rebatcher) pull() (Batch, bool) {
	for {
		if len(r.carry) > 0 {
			limit := r.p.BatchLimit(r.cur.Kind)
			if len(r.carry) < limit {
				if nb, ok := r.read(); ok && sameGroup(r.cur, nb) {
					r.carry = append(r.carry, nb.Targets...)
					continue
				} else if ok {
					r.held = &nb
				}
			}
			n := min(max(limit, 1), len(r.carry))
			b := r.cur
			b.Targets, r.carry = r.carry[:n:n], r.carry[n:]
			return r.number(b), true
		}
		b, ok := r.read()
		if !ok {
			return Batch{}, false
		}
		if limit := r.p.BatchLimit(b.Kind); limit >= 1 && len(b.Targets) > limit {
			r.cur, r.carry = b, b.Targets
			continue
		}
		return r.number(b), true
	}
}

func (r *rebatcher) read() (Batch, bool) {
	if r.held != nil {
		b := *r.held
		r.held = nil
		return b, true
	}
	return r.next()
}

func (r *rebatcher) number(b Batch) Batch {
	if r.last > 0 {
		b.Seq = r.last + 1
	}
	r.last = b.Seq
	return b
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
	// known holds the URLs the run purges, with a Verifier; redirects the
	// targets of redirects to purge after them (Runner.Redirects), until
	// followed.
	known     *keySet
	redirects []Target
	followed  bool
}

// prepare notes whether the run is soft, how many targets it has and,
// when they are verified, which URLs it purges.
func (s *session) prepare(run RunInfo, plan *BatchPlan) {
	s.soft = run.Soft
	s.limits = map[Kind]int{}
	s.total = plan.Targets()
	if s.r.Verifier != nil {
		s.knowURLs(plan.All())
	}
}

func (s *session) journal(e Entry) error {
	if s.r.Journal == nil {
		return nil
	}
	return s.r.Journal.Append(e)
}

// journalStart journals the run and every batch it plans before anything
// is sent, with one sync at the end: a resume finds every target.
func (s *session) journalStart(run RunInfo, plan *BatchPlan) error {
	if s.r.Journal == nil {
		return nil
	}
	entries := func(yield func(Entry) bool) {
		st := &StartEntry{RunInfo: run, TargetCount: plan.Targets()}
		if !yield(Entry{Type: EntryStart, RunID: run.ID, Start: st}) {
			return
		}
		for b := range plan.All() {
			pe := &PlanEntry{Seq: b.Seq, Kind: b.Kind, Targets: make([]JournalTarget, len(b.Targets))}
			for i, t := range b.Targets {
				pe.Targets[i] = JournalTarget{Target: t, Owner: s.owner(t)}
			}
			if !yield(Entry{Type: EntryPlan, RunID: run.ID, Plan: pe}) {
				return
			}
		}
	}
	if err := s.r.Journal.AppendAll(entries); err != nil {
		return err
	}
	return plan.Err()
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
	case s.known.has(target):
		v.Note = "purged the cached redirect; its target " + target + " is purged in this run too"
	case follow != "":
		s.known.add(follow)
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
