package offer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// pointEvent is a person at a point at a time: a check-in or a geolocated
// mention.
type pointEvent struct {
	seq          int64
	at           time.Time
	source, user string
	handle, name string
	item, itemID string
	lat, lon     float64
}

// batch is one transaction of decisions.
type batch struct {
	e   *Engine
	tx  *sqlite.Tx
	cat *catalog
	now time.Time

	// undo holds the visits of each person touched, as they were before
	// the batch (nil: absent), to restore when the transaction fails.
	undo     map[personKey]map[int64]*visit
	consents map[personKey]*person
	totals   map[int64]int // sent offers per campaign, loaded on demand
	hits     []*Fence

	decided []Decision
	points  map[string]int
	exits   int
}

// person is what the guards know about someone, loaded once a batch.
type person struct {
	consent   bool
	withdrawn bool
	tags      []string
	loc       *time.Location
	influence int
}

// process decides a batch of intake records in one transaction, with the
// cursor. On error nothing of it is kept, in the database or in memory.
func (e *Engine) process(ctx context.Context, recs []intake.Record) (err error) {
	ctx = sqlite.Detached(ctx) // a batch is short, better finished than interrupted
	start := time.Now()
	b := &batch{
		e: e, cat: e.cat.Load(), now: e.cfg.Now().UTC(),
		undo:     map[personKey]map[int64]*visit{},
		consents: map[personKey]*person{},
		totals:   map[int64]int{},
		points:   map[string]int{},
	}
	if b.tx, err = e.db.Begin(ctx); err != nil {
		return fmt.Errorf("begin offer batch: %w", err)
	}
	defer func() {
		if err != nil {
			b.tx.Rollback()
			b.restore()
		}
	}()
	for _, rec := range recs {
		if err := b.record(ctx, rec); err != nil {
			return fmt.Errorf("decide intake record %d: %w", rec.Seq, err)
		}
	}
	if err := b.prune(ctx); err != nil {
		return err
	}
	last := recs[len(recs)-1].Seq
	if _, err := b.tx.ExecContext(ctx, "INSERT INTO state(name, value) VALUES('intake_cursor', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", last); err != nil {
		return fmt.Errorf("save offer cursor: %w", err)
	}
	if err := b.tx.Commit(); err != nil {
		return fmt.Errorf("commit offer batch: %w", err)
	}
	e.cursor.Store(last)
	m := e.metrics
	for kind, n := range b.points {
		m.points.WithLabelValues(kind).Add(float64(n))
	}
	m.exits.Add(float64(b.exits))
	var sent bool
	for i := range b.decided {
		d := &b.decided[i]
		m.decisions.WithLabelValues(string(d.Status), string(d.Reason)).Inc()
		sent = sent || d.Delivery == DeliveryQueued
	}
	for _, rec := range recs {
		if !rec.ReceivedAt.IsZero() {
			m.lagSeconds.Observe(max(0, time.Since(rec.ReceivedAt).Seconds()))
		}
	}
	m.batchSeconds.Observe(time.Since(start).Seconds())
	if sent {
		wake(e.wakeDeliver)
	}
	if len(b.decided) > 0 {
		wake(e.wakePublish)
	}
	return nil
}

// exec and count run query in the batch's transaction, with the writer's
// statement for it (sqlite.Tx), kept from one batch to the next.
func (b *batch) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return b.tx.ExecContext(ctx, query, args...)
}

func (b *batch) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	if err := b.tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}

// save records the visits of k as they were before the batch, once.
func (b *batch) save(k personKey) {
	if _, ok := b.undo[k]; ok {
		return
	}
	vs := b.e.visits[k]
	if vs == nil {
		b.undo[k] = nil
		return
	}
	cp := make(map[int64]*visit, len(vs))
	for id, v := range vs {
		c := *v
		c.Fired = append([]int64(nil), v.Fired...)
		cp[id] = &c
	}
	b.undo[k] = cp
}

func (b *batch) restore() {
	for k, vs := range b.undo {
		if vs == nil {
			delete(b.e.visits, k)
		} else {
			b.e.visits[k] = vs
		}
	}
}

func (b *batch) record(ctx context.Context, rec intake.Record) error {
	var ev pointEvent
	switch it := rec.Item; it.Kind {
	case listener.KindCheckIn:
		c := it.CheckIn
		if rec.Version > 1 {
			b.points["checkin_edit"]++
			return nil
		}
		ev = pointEvent{seq: rec.Seq, at: c.CreatedAt.UTC(), source: c.Source, user: c.User.ID, handle: c.User.Handle,
			item: string(listener.KindCheckIn), itemID: c.ID, lat: c.Lat, lon: c.Lon}
		b.points["checkin"]++
	case listener.KindMention:
		m := it.Mention
		if _, err := b.exec(ctx, "INSERT INTO people(source, user_id, influence) VALUES(?, ?, ?) ON CONFLICT(source, user_id) DO UPDATE SET influence = excluded.influence", m.Source, m.Author.ID, router.Influence(m)); err != nil {
			return fmt.Errorf("record influence: %w", err)
		}
		delete(b.consents, personKey{m.Source, m.Author.ID})
		if m.Geo == nil || rec.Version > 1 {
			return nil
		}
		ev = pointEvent{seq: rec.Seq, at: m.CreatedAt.UTC(), source: m.Source, user: m.Author.ID, handle: m.Author.Handle,
			name: m.Author.Name, item: string(listener.KindMention), itemID: m.ID, lat: m.Geo.Lat, lon: m.Geo.Lon}
		b.points["mention"]++
	case listener.KindTombstone:
		if t := it.Tombstone; t.ID == "" && t.AuthorID != "" {
			return b.erase(ctx, t.Source, t.AuthorID)
		}
		return nil
	default:
		return nil
	}
	return b.point(ctx, ev)
}

// erase forgets a person whose account is gone or who asked to be erased:
// consents and their history, presence, influence and the offers decided
// for them. Offer KPIs already archived keep no personal field.
func (b *batch) erase(ctx context.Context, source, userID string) error {
	for _, q := range []string{
		"DELETE FROM consents WHERE source=? AND user_id=?",
		"DELETE FROM consent_log WHERE source=? AND user_id=?",
		"DELETE FROM people WHERE source=? AND user_id=?",
		"DELETE FROM presence WHERE source=? AND user_id=?",
		"DELETE FROM decisions WHERE source=? AND user_id=?",
	} {
		if _, err := b.exec(ctx, q, source, userID); err != nil {
			return fmt.Errorf("erase %s's offer data: %w", source, err)
		}
	}
	delete(b.consents, personKey{source, userID})
	for k := range b.e.visits {
		if k.source == source && k.user == userID {
			if _, saved := b.undo[k]; !saved {
				b.undo[k] = b.e.visits[k]
			}
			delete(b.e.visits, k)
		}
	}
	b.points["erasure"]++
	return nil
}

func (b *batch) point(ctx context.Context, ev pointEvent) error {
	e := b.e
	b.hits = b.cat.index.Match(b.hits[:0], ev.lat, ev.lon)
	if len(b.hits) > 0 {
		e.metrics.matched.Inc()
	}
	if ev.at.After(e.watermark) {
		e.watermark = ev.at
	}
	k := personKey{ev.source, ev.user}
	vs := e.visits[k]
	if len(b.hits) == 0 && len(vs) == 0 {
		return nil
	}
	b.save(k)
	if vs == nil {
		vs = map[int64]*visit{}
		e.visits[k] = vs
	}
	defer func() {
		if len(vs) == 0 {
			delete(e.visits, k)
		}
	}()
	for id, v := range vs {
		_, known := b.cat.fences[id]
		inside := false
		for _, f := range b.hits {
			inside = inside || f.ID == id
		}
		// A point older than the visit's last one says nothing of now.
		if !known || (!inside && !ev.at.Before(v.LastAt)) {
			delete(vs, id)
			b.exits++
			if _, err := b.exec(ctx, "DELETE FROM presence WHERE source = ? AND user_id = ? AND fence_id = ?", k.source, k.user, id); err != nil {
				return fmt.Errorf("record exit: %w", err)
			}
		}
	}
	for _, f := range b.hits {
		v := vs[f.ID]
		trans := TransitionInside
		if v == nil || absDur(ev.at.Sub(v.LastAt)) > e.cfg.VisitTimeout {
			trans, v = TransitionEnter, &visit{EnteredAt: ev.at, LastAt: ev.at}
			vs[f.ID] = v
		}
		if ev.at.After(v.LastAt) {
			v.LastAt = ev.at
		}
		d, err := b.decide(ctx, ev, f, trans, v)
		if err != nil {
			return err
		}
		if err := b.insert(ctx, d); err != nil {
			return err
		}
		fired, _ := json.Marshal(v.Fired)
		if v.Fired == nil {
			fired = []byte("[]")
		}
		if _, err := b.exec(ctx, `INSERT INTO presence(source, user_id, fence_id, entered_at, last_at, fired) VALUES(?, ?, ?, ?, ?, ?)
			ON CONFLICT(source, user_id, fence_id) DO UPDATE SET entered_at = excluded.entered_at, last_at = excluded.last_at, fired = excluded.fired`,
			k.source, k.user, f.ID, v.EnteredAt.UnixNano(), v.LastAt.UnixNano(), string(fired)); err != nil {
			return fmt.Errorf("record presence: %w", err)
		}
	}
	return nil
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// decide runs the guards for one person at one fence, in order, and returns
// the decision (not yet stored).
func (b *batch) decide(ctx context.Context, ev pointEvent, f *Fence, trans Transition, v *visit) (Decision, error) {
	e := b.e
	d := Decision{
		At: ev.at, DecidedAt: b.now, Seq: ev.seq, Source: ev.source, UserID: ev.user, Handle: ev.handle,
		Item: ev.item, ItemID: ev.itemID, FenceID: f.ID, Store: f.Name, Transition: trans,
		Status: StatusSkipped, Delivery: DeliveryNone,
	}
	all := b.cat.byFence[f.ID]
	var due []*Campaign
	dwell := ev.at.Sub(v.EnteredAt)
	for _, c := range all {
		switch c.Trigger.Kind {
		case TriggerEnter:
			if trans == TransitionEnter {
				due = append(due, c)
			}
		case TriggerDwell:
			if dwell >= time.Duration(c.Trigger.DwellMinutes)*time.Minute && !containsID(v.Fired, c.ID) {
				due = append(due, c)
			}
		}
	}
	switch {
	case len(due) == 0 && trans == TransitionInside && len(all) > 0:
		d.Reason = ReasonDuplicate
		return d, nil
	case len(due) == 0:
		d.Reason = ReasonNoCampaign
		return d, nil
	case e.cfg.MaxAge >= 0 && b.now.Sub(ev.at) > e.cfg.MaxAge:
		d.CampaignID, d.Reason = due[0].ID, ReasonStale
		return d, nil
	}
	p, err := b.person(ctx, personKey{ev.source, ev.user})
	if err != nil {
		return d, err
	}
	switch {
	case p.withdrawn:
		d.CampaignID, d.Reason = due[0].ID, ReasonConsentWithdrawn
		return d, nil
	case !p.consent:
		d.CampaignID, d.Reason = due[0].ID, ReasonNoConsent
		return d, nil
	}
	w := e.cfg.UserCapWindow
	n, err := b.count(ctx, "SELECT COUNT(*) FROM decisions WHERE status = 'sent' AND source = ? AND user_id = ? AND at > ? AND at < ?",
		ev.source, ev.user, ev.at.Add(-w).UnixNano(), ev.at.Add(w).UnixNano())
	if err != nil {
		return d, err
	}
	if n >= e.cfg.UserCap {
		d.CampaignID, d.Reason = due[0].ID, ReasonCappedUser
		return d, nil
	}
	userLoc := p.loc
	if userLoc == nil {
		userLoc = f.loc
	}
	for _, c := range due {
		r, err := b.check(ctx, c, ev, f, p, userLoc)
		if err != nil {
			return d, err
		}
		if r != "" {
			if d.Reason == "" {
				d.CampaignID, d.Reason = c.ID, r
			}
			continue
		}
		name := ev.name
		if name == "" {
			name = ev.handle
		}
		d.CampaignID, d.Reason, d.Status = c.ID, "", StatusSent
		d.Text, d.Code = c.Offer.render(name, f.Name), c.Offer.Code
		if e.cfg.GatewayURL != "" {
			d.Delivery = DeliveryQueued
		}
		if c.Trigger.Kind == TriggerDwell {
			v.Fired = append(v.Fired, c.ID)
		}
		b.totals[c.ID]++
		return d, nil
	}
	return d, nil
}

// check runs one campaign's own guards and returns the first that fails
// ("" when the offer may go).
func (b *batch) check(ctx context.Context, c *Campaign, ev pointEvent, f *Fence, p *person, userLoc *time.Location) (Reason, error) {
	switch {
	case !c.inDates(ev.at, f.loc):
		return ReasonOutsideDates, nil
	case c.Schedule.OpeningHoursOnly && !f.sched.open(ev.at, f.loc):
		return ReasonClosed, nil
	case c.quiet.contains(ev.at, userLoc):
		return ReasonQuietHours, nil
	case c.Audience.MinInfluence > 0 && p.influence < c.Audience.MinInfluence:
		return ReasonNotInSegment, nil
	case len(c.Audience.Tags) > 0 && !hasAnyTag(p.tags, c.Audience.Tags):
		return ReasonNotInSegment, nil
	}
	w := c.Cap.window()
	n, err := b.count(ctx, "SELECT COUNT(*) FROM decisions WHERE status = 'sent' AND campaign_id = ? AND source = ? AND user_id = ? AND at > ? AND at < ?",
		c.ID, ev.source, ev.user, ev.at.Add(-w).UnixNano(), ev.at.Add(w).UnixNano())
	if err != nil {
		return "", err
	}
	if n >= c.Cap.perUser() {
		return ReasonCappedCampaign, nil
	}
	if c.Cap.Total > 0 {
		total, ok := b.totals[c.ID]
		if !ok {
			if total, err = b.count(ctx, "SELECT COUNT(*) FROM decisions WHERE status = 'sent' AND campaign_id = ?", c.ID); err != nil {
				return "", err
			}
			b.totals[c.ID] = total
		}
		if total >= c.Cap.Total {
			return ReasonCappedCampaign, nil
		}
	}
	return "", nil
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// person loads the consent and segment of k, once a batch. Consents change
// only through the writer connection this transaction holds, so what it
// reads stays true until the batch commits.
func (b *batch) person(ctx context.Context, k personKey) (*person, error) {
	if p, ok := b.consents[k]; ok {
		return p, nil
	}
	p := &person{}
	var tags, tz string
	err := b.tx.QueryRowContext(ctx, "SELECT granted, withdrawn_at IS NOT NULL, tags, time_zone FROM consents WHERE source = ? AND user_id = ?", k.source, k.user).Scan(&p.consent, &p.withdrawn, &tags, &tz)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("read consent: %w", err)
	default:
		p.withdrawn = p.withdrawn && !p.consent
		if err := json.Unmarshal([]byte(tags), &p.tags); err != nil {
			return nil, fmt.Errorf("read consent tags: %w", err)
		}
		if tz != "" {
			if p.loc, err = time.LoadLocation(tz); err != nil {
				return nil, fmt.Errorf("read consent time zone: %w", err)
			}
		}
	}
	if err := b.tx.QueryRowContext(ctx, "SELECT influence FROM people WHERE source = ? AND user_id = ?", k.source, k.user).Scan(&p.influence); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read influence: %w", err)
	}
	b.consents[k] = p
	return p, nil
}

// insert stores a decision (and its event, when the engine publishes).
func (b *batch) insert(ctx context.Context, d Decision) error {
	var next any
	if d.Delivery == DeliveryQueued {
		next = b.now.UnixNano()
	}
	res, err := b.exec(ctx, `INSERT INTO decisions(seq, at, decided_at, source, user_id, handle, item, item_id, fence_id, store,
		transition, campaign_id, status, reason, text, code, delivery, next_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Seq, d.At.UnixNano(), d.DecidedAt.UnixNano(), d.Source, d.UserID, d.Handle, d.Item, d.ItemID, d.FenceID, d.Store,
		string(d.Transition), d.CampaignID, string(d.Status), string(d.Reason), d.Text, d.Code, string(d.Delivery), next)
	if err != nil {
		return fmt.Errorf("record decision: %w", err)
	}
	if d.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("record decision: %w", err)
	}
	b.decided = append(b.decided, d)
	if b.e.pub == nil {
		return nil
	}
	typ := EventSkipped
	if d.Status == StatusSent {
		typ = EventSent
	}
	return b.outbox(ctx, typ, d)
}

func (b *batch) outbox(ctx context.Context, typ desk.EventType, d Decision) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if _, err := b.exec(ctx, "INSERT INTO outbox(type, data) VALUES(?, ?)", string(typ), data); err != nil {
		return fmt.Errorf("queue event: %w", err)
	}
	return nil
}

// pruneEvery is how often (in wall time) visits nobody ended are dropped:
// often enough to bound memory, rarely enough to cost nothing.
const pruneEvery = time.Minute

// prune ends visits whose last point is older than the visit timeout before
// the newest point seen: that person left without telling us.
func (b *batch) prune(ctx context.Context) error {
	e := b.e
	if time.Since(e.lastPrune) < pruneEvery {
		return nil
	}
	e.lastPrune = time.Now()
	limit := e.watermark.Add(-e.cfg.VisitTimeout)
	for k, vs := range e.visits {
		for id, v := range vs {
			if v.LastAt.Before(limit) {
				b.save(k)
				delete(vs, id)
				if _, err := b.exec(ctx, "DELETE FROM presence WHERE source = ? AND user_id = ? AND fence_id = ?", k.source, k.user, id); err != nil {
					return fmt.Errorf("prune presence: %w", err)
				}
			}
		}
		if len(vs) == 0 {
			delete(e.visits, k)
		}
	}
	return nil
}
