package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// Run follows the event log from the index's cursor, writing events to the
// index in batches, until ctx is done; it returns ctx.Err() then, or
// ErrClosed if the index is closed under it. A failed read or write is
// logged, counted, and retried after Config.RetryDelay from the last batch
// written: nothing is skipped or applied twice. An event it cannot decode
// is logged, counted and skipped. Run never blocks the event log's writers:
// it only reads.
func (ix *Index) Run(ctx context.Context) error {
	if !ix.running.TryLock() {
		return ErrRunning
	}
	defer ix.running.Unlock()
	f := ix.feeder
	for {
		_, err := f.follow(ctx, false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrClosed) {
			return err
		}
		ix.logger.Error("index_failed", "error", err, "cursor", f.committed, "retry_in", ix.cfg.RetryDelay)
		f.restart()
		select {
		case <-time.After(ix.cfg.RetryDelay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CatchUp writes every event already in the log to the index and returns
// the cursor reached: the work of Run, stopping at the log's head instead
// of waiting for more.
func (ix *Index) CatchUp(ctx context.Context) (int64, error) {
	if !ix.running.TryLock() {
		return 0, ErrRunning
	}
	defer ix.running.Unlock()
	c, err := ix.feeder.follow(ctx, true)
	if err != nil {
		ix.feeder.restart()
	}
	return c, err
}

// feeder is Run's state: the batch being built, the cursor, and the ticket
// cache. It is owned by one goroutine.
type feeder struct {
	ix        *Index
	cache     *ticketCache
	b         batch
	read      int64 // Seq of the last event added to b, or committed
	committed int64 // Seq of the last event written to the index
	// coldUntil ends the window after a start in which a ticket.created
	// event may follow a mention written before the start, so that its
	// documents must be looked up in the index. The desk writes a mention
	// and its ticket's event together, so one batch's worth is ample.
	coldUntil int64
	more      bool // the last read filled its page: the log has more
	lastAt    time.Time
}

func newFeeder(ix *Index) *feeder {
	f := &feeder{ix: ix, cache: newTicketCache(ix.cfg.TicketCache)}
	f.b.init()
	f.committed = ix.cursor
	f.restart()
	return f
}

// restart drops everything not written and starts again after the last
// batch written.
func (f *feeder) restart() {
	f.b.reset()
	f.cache.reset()
	f.read = f.committed
	f.coldUntil = f.committed + int64(f.ix.cfg.BatchEvents)
}

// follow reads and writes events until ctx is done or an error occurs; with
// untilHead, it returns nil with the cursor once the log has no more events.
func (f *feeder) follow(ctx context.Context, untilHead bool) (int64, error) {
	cfg := &f.ix.cfg
	for {
		evs, err := f.ix.log.ReadEvents(ctx, f.read, cfg.ReadEvents)
		if err != nil {
			f.ix.m.errors.WithLabelValues("read").Inc()
			return f.committed, fmt.Errorf("search: read events after %d: %w", f.read, err)
		}
		f.more = len(evs) >= cfg.ReadEvents
		for i := range evs {
			if evs[i].Seq <= f.read {
				continue // already applied; a log never does this, but replays must not
			}
			f.apply(&evs[i])
			if f.b.events >= cfg.BatchEvents {
				if err := f.flush(ctx); err != nil {
					return f.committed, err
				}
			}
		}
		switch {
		case f.more && f.b.events > 0 && time.Since(f.b.started) >= cfg.MaxDelay:
			if err := f.flush(ctx); err != nil {
				return f.committed, err
			}
			continue
		case f.more:
			continue
		case untilHead:
			err := f.flush(ctx)
			return f.committed, err
		case f.b.events == 0:
			f.updateLag()
			if err := f.wait(ctx, ctx); err != nil {
				return f.committed, err
			}
			continue
		}
		// Caught up with a batch started: give it until MaxDelay to fill.
		if wait := cfg.MaxDelay - time.Since(f.b.started); wait > 0 {
			wctx, cancel := context.WithTimeout(ctx, wait)
			err := f.wait(ctx, wctx)
			cancel()
			if err == nil {
				continue
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				return f.committed, err
			}
		}
		if err := f.flush(ctx); err != nil {
			return f.committed, err
		}
	}
}

// wait waits under wctx for an event after f.read. It returns
// context.DeadlineExceeded when wctx, and not ctx, ran out.
func (f *feeder) wait(ctx, wctx context.Context) error {
	err := f.ix.log.WaitEvents(wctx, f.read)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case wctx.Err() != nil:
		return context.DeadlineExceeded
	}
	f.ix.m.errors.WithLabelValues("read").Inc()
	return fmt.Errorf("search: wait for events after %d: %w", f.read, err)
}

// batch is the work of the events read since the last write.
type batch struct {
	// docs holds the documents to write, by id; nil deletes the document.
	docs map[string]*Record
	// loads are documents already in the index whose ticket changed: read
	// back at flush and written again with the ticket's final state.
	loads map[string]struct{}
	// lookups are tickets whose documents in the index are unknown: found
	// by ticket_id at flush, and added to the ticket's cache entry.
	lookups map[int64]*ticketEntry
	// states holds the final state of each ticket changed in the batch.
	states map[int64]TicketState
	// authors are erasures: their documents already in the index go.
	authors []desk.DeletedData
	// expire is the latest retention cutoff in the batch: documents of
	// posts created before it go.
	expire  time.Time
	events  int
	started time.Time
}

func (b *batch) init() {
	b.docs = make(map[string]*Record)
	b.loads = make(map[string]struct{})
	b.lookups = make(map[int64]*ticketEntry)
	b.states = make(map[int64]TicketState)
}

func (b *batch) reset() {
	clear(b.docs)
	clear(b.loads)
	clear(b.lookups)
	clear(b.states)
	b.authors = b.authors[:0]
	b.expire = time.Time{}
	b.events = 0
}

// mentionPayload is the part of desk.MentionData the index needs; the
// decision's trace is skipped.
type mentionPayload struct {
	Mention    listener.Mention  `json:"mention"`
	Version    int               `json:"version"`
	Enrichment router.Enrichment `json:"enrichment"`
	Decision   struct {
		Queue    string          `json:"queue"`
		Priority router.Priority `json:"priority"`
		Tags     []string        `json:"tags"`
	} `json:"decision"`
	TicketID int64 `json:"ticket_id"`
}

// ticketPayload is the part of desk.TicketData the index needs.
type ticketPayload struct {
	Ticket struct {
		ID       int64           `json:"id"`
		Queue    string          `json:"queue"`
		Status   desk.Status     `json:"status"`
		Priority router.Priority `json:"priority"`
		Assignee string          `json:"assignee"`
		Tags     []string        `json:"tags"`
	} `json:"ticket"`
}

// apply adds one event to the batch.
func (f *feeder) apply(ev *desk.Event) {
	if f.b.events == 0 {
		f.b.started = time.Now()
	}
	f.b.events++
	f.read, f.lastAt = ev.Seq, ev.At
	var err error
	switch ev.Type {
	case desk.EventMentionReceived:
		err = f.applyMention(ev)
	case desk.EventMentionDeleted:
		err = f.applyDeleted(ev)
	case desk.EventTicketCreated, desk.EventTicketUpdated:
		err = f.applyTicket(ev)
	case desk.EventRetentionApplied:
		err = f.applyRetention(ev)
	default:
		f.ix.m.events.WithLabelValues("other").Inc()
		return
	}
	f.ix.m.events.WithLabelValues(string(ev.Type)).Inc()
	if err != nil {
		f.ix.m.errors.WithLabelValues("decode").Inc()
		f.ix.logger.Warn("event_skipped", "seq", ev.Seq, "type", string(ev.Type), "error", err)
	}
}

func (f *feeder) applyMention(ev *desk.Event) error {
	var p mentionPayload
	if err := desk.DecodePayload(ev.Data, &p); err != nil {
		return fmt.Errorf("decode mention: %w", err)
	}
	if p.Mention.Source == "" || p.Mention.ID == "" {
		return errors.New("mention without source or id")
	}
	rec := &Record{
		Mention: p.Mention, Version: p.Version, Enrichment: p.Enrichment, TicketID: p.TicketID,
		TicketState: TicketState{Queue: p.Decision.Queue, Priority: p.Decision.Priority, Tags: p.Decision.Tags},
	}
	id := rec.Mention.Key()
	if rec.TicketID != 0 {
		e := f.cache.get(rec.TicketID)
		switch {
		case e == nil:
			e = &ticketEntry{state: rec.TicketState, docs: []string{id}}
			f.cache.put(rec.TicketID, e)
			if rec.Version > 1 {
				// An edit of a post of a ticket this process has not seen:
				// its state is in the index, on the previous version.
				f.b.lookups[rec.TicketID] = e
			}
		case e.complete:
			rec.TicketState = e.state
			e.addDoc(id)
		default:
			e.addDoc(id)
		}
	}
	f.b.docs[id] = rec
	return nil
}

func (f *feeder) applyDeleted(ev *desk.Event) error {
	var d desk.DeletedData
	if err := desk.DecodePayload(ev.Data, &d); err != nil {
		return fmt.Errorf("decode deletion: %w", err)
	}
	switch {
	case d.Source == "":
		return errors.New("deletion without source")
	case d.ID != "":
		id := d.Source + "/" + d.ID
		f.b.docs[id] = nil
		delete(f.b.loads, id)
	case d.AuthorID != "":
		for id, rec := range f.b.docs {
			if rec != nil && rec.Mention.Source == d.Source && rec.Mention.Author.ID == d.AuthorID {
				delete(f.b.docs, id)
			}
		}
		f.b.authors = append(f.b.authors, d)
	default:
		return errors.New("deletion without id or author id")
	}
	return nil
}

// applyRetention expires the documents of posts created before the sweep's
// cutoff: those in the batch now, those in the index at flush.
func (f *feeder) applyRetention(ev *desk.Event) error {
	var d desk.RetentionData
	if err := desk.DecodePayload(ev.Data, &d); err != nil {
		return fmt.Errorf("decode retention: %w", err)
	}
	if d.Before.IsZero() {
		return errors.New("retention without a cutoff")
	}
	for id, rec := range f.b.docs {
		if rec != nil && rec.Mention.CreatedAt.Before(d.Before) {
			f.b.docs[id] = nil
		}
	}
	if d.Before.After(f.b.expire) {
		f.b.expire = d.Before
	}
	return nil
}

func (f *feeder) applyTicket(ev *desk.Event) error {
	var p ticketPayload
	if err := desk.DecodePayload(ev.Data, &p); err != nil {
		return fmt.Errorf("decode ticket: %w", err)
	}
	t := &p.Ticket
	if t.ID == 0 {
		return errors.New("ticket without id")
	}
	st := TicketState{Queue: t.Queue, Status: t.Status, Assignee: t.Assignee, Priority: t.Priority, Tags: t.Tags}
	f.b.states[t.ID] = st
	// Documents written before this process saw the ticket may exist for
	// any update, and for a creation just after a start.
	unknownPast := ev.Type == desk.EventTicketUpdated || ev.Seq <= f.coldUntil
	e := f.cache.get(t.ID)
	if e == nil {
		e = &ticketEntry{state: st, complete: true}
		f.cache.put(t.ID, e)
		if unknownPast {
			f.b.lookups[t.ID] = e
		}
		return nil
	}
	if !e.complete && unknownPast {
		f.b.lookups[t.ID] = e
	}
	if !e.state.equal(&st) || !e.complete {
		for _, id := range e.docs {
			if _, ok := f.b.docs[id]; !ok {
				f.b.loads[id] = struct{}{}
			}
		}
	}
	e.state, e.complete = st, true
	return nil
}

// flush writes the batch and the cursor in one Bleve batch.
func (f *feeder) flush(ctx context.Context) error {
	if f.b.events == 0 {
		return nil
	}
	if y := f.ix.cfg.Yield; y != nil {
		y(ctx)
	}
	start := time.Now()
	ix := f.ix
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return ErrClosed
	}
	erased, err := f.resolveAuthors(ctx)
	if err != nil {
		return err
	}
	if err := f.resolveTickets(ctx, erased); err != nil {
		return err
	}
	bb := ix.bleve.NewBatch()
	indexed, deleted := 0, 0
	for id, rec := range f.b.docs {
		if rec == nil {
			bb.Delete(id)
			deleted++
			continue
		}
		if st, ok := f.b.states[rec.TicketID]; ok && rec.TicketID != 0 {
			rec.TicketState = st
		}
		src, err := rec.source()
		if err != nil {
			return fmt.Errorf("search: encode %s: %w", id, err)
		}
		if err := bb.Index(id, rec.fields(src)); err != nil {
			return fmt.Errorf("search: index %s: %w", id, err)
		}
		indexed++
	}
	for id := range erased {
		bb.Delete(id)
		deleted++
	}
	bb.SetInternal(keyCursor, strconv.AppendInt(nil, f.read, 10))
	seq := f.read
	bb.SetPersistedCallback(func(err error) {
		if err == nil {
			ix.notePersisted(seq)
		}
	})
	if err := ix.bleve.Batch(bb); err != nil {
		ix.m.errors.WithLabelValues("write").Inc()
		return fmt.Errorf("search: write batch up to %d: %w", f.read, err)
	}
	f.committed = f.read
	ix.cursor = f.read
	ix.written.Store(f.read)
	m := ix.m
	m.docs.WithLabelValues("indexed").Add(float64(indexed))
	m.docs.WithLabelValues("deleted").Add(float64(deleted))
	m.batchSeconds.Observe(time.Since(start).Seconds())
	m.batchEvents.Observe(float64(f.b.events))
	m.cursor.Set(float64(f.committed))
	f.b.reset()
	f.updateLag()
	return nil
}

func (f *feeder) updateLag() {
	m := f.ix.m
	if h, ok := f.ix.log.(headReader); ok {
		m.lagEvents.Set(float64(max(0, h.LastSeq()-f.committed)))
	} else {
		m.lagEvents.Set(float64(f.read - f.committed))
	}
	if f.more && !f.lastAt.IsZero() {
		m.lagSeconds.Set(time.Since(f.lastAt).Seconds())
	} else {
		m.lagSeconds.Set(0)
	}
}

// source returns the stored form of the record: its JSON without the text,
// which its text field stores.
func (r *Record) source() ([]byte, error) {
	c := *r
	c.Mention.Text = ""
	return json.Marshal(&c)
}

// resolveAuthors returns the documents already in the index of the authors
// erased in the batch, except those the batch writes again (posted after
// the erasure), and those of posts created before a retention cutoff of
// the batch.
func (f *feeder) resolveAuthors(ctx context.Context) (map[string]struct{}, error) {
	if len(f.b.authors) == 0 && f.b.expire.IsZero() {
		return nil, nil
	}
	erased := make(map[string]struct{})
	if !f.b.expire.IsZero() {
		q := query.NewDateRangeQuery(time.Time{}, f.b.expire)
		q.SetField(fieldCreatedAt)
		err := f.ix.scan(ctx, q, nil, func(id string, _ map[string]any) error {
			if rec, ok := f.b.docs[id]; !ok || rec == nil {
				erased[id] = struct{}{}
			}
			return nil
		})
		if err != nil {
			f.ix.m.errors.WithLabelValues("lookup").Inc()
			return nil, fmt.Errorf("search: find documents created before %s: %w", f.b.expire.Format(time.RFC3339), err)
		}
	}
	for _, d := range f.b.authors {
		q := bleve.NewConjunctionQuery(termQuery(fieldSource, d.Source), termQuery(fieldAuthorID, d.AuthorID))
		err := f.ix.scan(ctx, q, nil, func(id string, _ map[string]any) error {
			if _, ok := f.b.docs[id]; !ok {
				erased[id] = struct{}{}
			}
			return nil
		})
		if err != nil {
			f.ix.m.errors.WithLabelValues("lookup").Inc()
			return nil, fmt.Errorf("search: find documents of %s/%s: %w", d.Source, d.AuthorID, err)
		}
	}
	return erased, nil
}

// resolveTickets reads back the documents already in the index whose
// ticket changed in the batch, so that flush writes them again.
func (f *feeder) resolveTickets(ctx context.Context, erased map[string]struct{}) error {
	var ids []string
	for id := range f.b.loads {
		if _, ok := f.b.docs[id]; ok {
			continue
		}
		if _, ok := erased[id]; ok {
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 && len(f.b.lookups) == 0 {
		return nil
	}
	var qs []query.Query
	if len(ids) > 0 {
		qs = append(qs, query.NewDocIDQuery(ids))
	}
	for tid := range f.b.lookups {
		qs = append(qs, termQuery(fieldTicketID, strconv.FormatInt(tid, 10)))
	}
	err := f.ix.scan(ctx, bleve.NewDisjunctionQuery(qs...), storedFields, func(id string, fields map[string]any) error {
		rec, err := recordFromFields(fields)
		if err != nil {
			return fmt.Errorf("document %s: %w", id, err)
		}
		if e := f.b.lookups[rec.TicketID]; e != nil {
			e.addDoc(id)
			if _, ok := f.b.states[rec.TicketID]; !ok {
				// No ticket event in the batch: the index has the state.
				f.b.states[rec.TicketID] = rec.TicketState
				e.state, e.complete = rec.TicketState, true
			}
		}
		if _, ok := f.b.docs[id]; ok {
			return nil
		}
		if _, ok := erased[id]; ok {
			return nil
		}
		f.ix.m.lookups.Inc()
		f.b.docs[id] = rec
		return nil
	})
	if err != nil {
		f.ix.m.errors.WithLabelValues("lookup").Inc()
		return fmt.Errorf("search: read back documents of changed tickets: %w", err)
	}
	return nil
}

func termQuery(field, term string) query.Query {
	q := bleve.NewTermQuery(term)
	q.SetField(field)
	return q
}

// storedFields are the fields a record is rebuilt from.
var storedFields = []string{fieldSrc, fieldText, fieldTextFR, fieldTextEN}

// recordFromFields rebuilds a record from its stored fields.
func recordFromFields(fields map[string]any) (*Record, error) {
	src, _ := fields[fieldSrc].(string)
	if src == "" {
		return nil, errors.New("no stored source")
	}
	rec := new(Record)
	if err := json.Unmarshal([]byte(src), rec); err != nil {
		return nil, fmt.Errorf("decode stored source: %w", err)
	}
	for _, name := range textFields {
		if t, ok := fields[name].(string); ok {
			rec.Mention.Text = t
			break
		}
	}
	return rec, nil
}

// scanPage is how many documents one page of a scan reads.
const scanPage = 1000

// scan calls fn for every document q matches, in id order, with the given
// stored fields. The caller holds ix.mu.
func (ix *Index) scan(ctx context.Context, q query.Query, fields []string, fn func(id string, fields map[string]any) error) error {
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(q, scanPage, 0, false)
		req.Fields = fields
		req.SortBy([]string{"_id"})
		if after != nil {
			req.SearchAfter = after
		}
		res, err := ix.bleve.SearchInContext(ctx, req)
		if err != nil {
			return err
		}
		for _, h := range res.Hits {
			if err := fn(h.ID, h.Fields); err != nil {
				return err
			}
		}
		if len(res.Hits) < scanPage {
			return nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}

// notePersisted records that the batch up to seq is on disk.
func (ix *Index) notePersisted(seq int64) {
	for {
		p := ix.persisted.Load()
		if seq <= p || ix.persisted.CompareAndSwap(p, seq) {
			return
		}
	}
}
