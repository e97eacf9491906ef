package offer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Fences returns every fence, by id.
func (e *Engine) Fences() []Fence {
	e.catMu.Lock()
	defer e.catMu.Unlock()
	out := make([]Fence, 0, len(e.fences))
	for _, f := range e.fences {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Fence) int { return cmpInt64(a.ID, b.ID) })
	return out
}

// Fence returns one fence, or ErrNotFound.
func (e *Engine) Fence(id int64) (Fence, error) {
	e.catMu.Lock()
	defer e.catMu.Unlock()
	f, ok := e.fences[id]
	if !ok {
		return Fence{}, fmt.Errorf("fence %d: %w", id, ErrNotFound)
	}
	return *f, nil
}

// PutFence creates f (id 0) or replaces fence id, and indexes it. Its
// errors wrap ErrInvalid (naming the field) or ErrNotFound.
func (e *Engine) PutFence(ctx context.Context, id int64, f Fence) (Fence, error) {
	if err := f.compile(); err != nil {
		return Fence{}, err
	}
	e.catMu.Lock()
	defer e.catMu.Unlock()
	now := e.cfg.Now().UTC().Truncate(time.Millisecond)
	f.CreatedAt, f.UpdatedAt = now, now
	if id != 0 {
		old, ok := e.fences[id]
		if !ok {
			return Fence{}, fmt.Errorf("fence %d: %w", id, ErrNotFound)
		}
		f.CreatedAt = old.CreatedAt
	}
	newID, err := e.putBody(ctx, "fences", id, &f.ID, &f)
	if err != nil {
		return Fence{}, err
	}
	f.ID = newID
	e.fences[f.ID] = &f
	e.rebuild()
	return f, nil
}

// DeleteFence removes a fence. Visits to it end at the next point of each
// person; campaigns that list it by id keep the id (and match nothing
// there).
func (e *Engine) DeleteFence(ctx context.Context, id int64) error {
	e.catMu.Lock()
	defer e.catMu.Unlock()
	if _, ok := e.fences[id]; !ok {
		return fmt.Errorf("fence %d: %w", id, ErrNotFound)
	}
	if _, err := e.db.Exec(ctx, "DELETE FROM fences WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete fence %d: %w", id, err)
	}
	delete(e.fences, id)
	e.rebuild()
	return nil
}

// Campaigns returns every campaign, by id.
func (e *Engine) Campaigns() []Campaign {
	e.catMu.Lock()
	defer e.catMu.Unlock()
	out := make([]Campaign, 0, len(e.campaigns))
	for _, c := range e.campaigns {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Campaign) int { return cmpInt64(a.ID, b.ID) })
	return out
}

// Campaign returns one campaign, or ErrNotFound.
func (e *Engine) Campaign(id int64) (Campaign, error) {
	e.catMu.Lock()
	defer e.catMu.Unlock()
	c, ok := e.campaigns[id]
	if !ok {
		return Campaign{}, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return *c, nil
}

// PutCampaign creates c (id 0) or replaces campaign id. The next batch
// decides with it. Its errors wrap ErrInvalid or ErrNotFound.
func (e *Engine) PutCampaign(ctx context.Context, id int64, c Campaign) (Campaign, error) {
	if err := c.compile(); err != nil {
		return Campaign{}, err
	}
	e.catMu.Lock()
	defer e.catMu.Unlock()
	now := e.cfg.Now().UTC().Truncate(time.Millisecond)
	c.CreatedAt, c.UpdatedAt = now, now
	if id != 0 {
		old, ok := e.campaigns[id]
		if !ok {
			return Campaign{}, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
		}
		c.CreatedAt = old.CreatedAt
	}
	newID, err := e.putBody(ctx, "campaigns", id, &c.ID, &c)
	if err != nil {
		return Campaign{}, err
	}
	c.ID = newID
	e.campaigns[c.ID] = &c
	e.rebuild()
	return c, nil
}

// DeleteCampaign removes a campaign; its decisions stay.
func (e *Engine) DeleteCampaign(ctx context.Context, id int64) error {
	e.catMu.Lock()
	defer e.catMu.Unlock()
	if _, ok := e.campaigns[id]; !ok {
		return fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	if _, err := e.db.Exec(ctx, "DELETE FROM campaigns WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete campaign %d: %w", id, err)
	}
	delete(e.campaigns, id)
	e.rebuild()
	return nil
}

// putBody inserts (id 0) or updates a JSON body, and returns the row id.
// idField is the body's own id, set before encoding so that the stored body
// is complete.
func (e *Engine) putBody(ctx context.Context, table string, id int64, idField *int64, v any) (int64, error) {
	tx, err := e.db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin %s write: %w", table, err)
	}
	defer tx.Rollback()
	if id == 0 {
		res, err := tx.ExecContext(ctx, "INSERT INTO "+table+"(body) VALUES('{}')")
		if err != nil {
			return 0, fmt.Errorf("insert into %s: %w", table, err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return 0, fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	*idField = id
	body, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode %s %d: %w", table, id, err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET body = ? WHERE id = ?", body, id); err != nil {
		return 0, fmt.Errorf("update %s %d: %w", table, id, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit %s %d: %w", table, id, err)
	}
	return id, nil
}

// ConsentRequest is a change of consent, as PUT /consents/{source}/{user_id}
// takes it.
type ConsentRequest struct {
	Granted bool `json:"granted"`
	// Channel (how) and Proof (evidence) are required to grant.
	Channel  string   `json:"channel"`
	Proof    string   `json:"proof"`
	Tags     []string `json:"tags,omitempty"`
	TimeZone string   `json:"time_zone,omitempty"`
}

// MaxProofBytes bounds a consent's proof.
const MaxProofBytes = 4096

var sourceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

func checkPerson(source, user string) error {
	if !sourceRE.MatchString(source) {
		return fmt.Errorf("%w: source: %q is not a source name (lower case letters, digits, _ . -)", ErrInvalid, source)
	}
	if user == "" || len(user) > 512 || !utf8.ValidString(user) {
		return fmt.Errorf("%w: user_id: required, valid UTF-8, at most 512 bytes", ErrInvalid)
	}
	return nil
}

// PutConsent records a grant (req.Granted) or a withdrawal of consent, with
// who recorded it. A withdrawal takes effect for every batch decided after
// it returns, and cancels offers still queued.
func (e *Engine) PutConsent(ctx context.Context, source, user string, req ConsentRequest, by string) (Consent, error) {
	if err := checkPerson(source, user); err != nil {
		return Consent{}, err
	}
	if req.Granted {
		if err := checkName("channel", req.Channel, true); err != nil {
			return Consent{}, err
		}
		if strings.TrimSpace(req.Proof) == "" {
			return Consent{}, fmt.Errorf("%w: proof: required to grant consent (what shows the person agreed)", ErrInvalid)
		}
	} else if err := checkName("channel", req.Channel, false); err != nil {
		return Consent{}, err
	}
	if len(req.Proof) > MaxProofBytes || !utf8.ValidString(req.Proof) {
		return Consent{}, fmt.Errorf("%w: proof: valid UTF-8, at most %d bytes", ErrInvalid, MaxProofBytes)
	}
	if err := checkTags("tags", req.Tags); err != nil {
		return Consent{}, err
	}
	if _, err := loadZone("time_zone", req.TimeZone, false); err != nil {
		return Consent{}, err
	}
	now := e.cfg.Now().UTC()
	tags, _ := json.Marshal(req.Tags)
	if req.Tags == nil {
		tags = []byte("[]")
	}
	tx, err := e.db.Begin(ctx)
	if err != nil {
		return Consent{}, fmt.Errorf("begin consent: %w", err)
	}
	defer tx.Rollback()
	if req.Granted {
		_, err = tx.ExecContext(ctx, `INSERT INTO consents(source, user_id, granted, channel, proof, tags, time_zone, granted_at, withdrawn_at, updated_at)
			VALUES(?, ?, 1, ?, ?, ?, ?, ?, NULL, ?)
			ON CONFLICT(source, user_id) DO UPDATE SET granted = 1, channel = excluded.channel, proof = excluded.proof,
			tags = excluded.tags, time_zone = excluded.time_zone, granted_at = excluded.granted_at, withdrawn_at = NULL, updated_at = excluded.updated_at`,
			source, user, req.Channel, req.Proof, string(tags), req.TimeZone, now.UnixNano(), now.UnixNano())
	} else {
		// A withdrawal keeps the grant's channel and proof (the record of
		// what was withdrawn); the withdrawal's own are in the history.
		_, err = tx.ExecContext(ctx, `INSERT INTO consents(source, user_id, granted, channel, proof, tags, time_zone, granted_at, withdrawn_at, updated_at)
			VALUES(?, ?, 0, '', '', '[]', '', NULL, ?, ?)
			ON CONFLICT(source, user_id) DO UPDATE SET granted = 0, withdrawn_at = excluded.withdrawn_at, updated_at = excluded.updated_at`,
			source, user, now.UnixNano(), now.UnixNano())
	}
	if err != nil {
		return Consent{}, fmt.Errorf("record consent: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO consent_log(source, user_id, at, granted, channel, proof, recorded_by) VALUES(?, ?, ?, ?, ?, ?, ?)",
		source, user, now.UnixNano(), req.Granted, req.Channel, req.Proof, by); err != nil {
		return Consent{}, fmt.Errorf("record consent history: %w", err)
	}
	if !req.Granted {
		if _, err := tx.ExecContext(ctx, "UPDATE decisions SET delivery = 'cancelled', next_at = NULL, last_error = 'consent withdrawn before delivery' WHERE source = ? AND user_id = ? AND delivery = 'queued'", source, user); err != nil {
			return Consent{}, fmt.Errorf("cancel queued offers: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Consent{}, fmt.Errorf("commit consent: %w", err)
	}
	return e.Consent(ctx, source, user)
}

// Consent returns the consent of one person with its history, or
// ErrNotFound when none was ever recorded.
func (e *Engine) Consent(ctx context.Context, source, user string) (Consent, error) {
	if err := checkPerson(source, user); err != nil {
		return Consent{}, err
	}
	c := Consent{Source: source, UserID: user}
	var (
		tags                string
		grantedAt, withdrAt sql.NullInt64
		updated             int64
	)
	err := e.db.R.QueryRowContext(ctx, "SELECT granted, channel, proof, tags, time_zone, granted_at, withdrawn_at, updated_at FROM consents WHERE source = ? AND user_id = ?", source, user).
		Scan(&c.Granted, &c.Channel, &c.Proof, &tags, &c.TimeZone, &grantedAt, &withdrAt, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Consent{}, fmt.Errorf("consent of %s/%s: %w", source, user, ErrNotFound)
	}
	if err != nil {
		return Consent{}, fmt.Errorf("read consent: %w", err)
	}
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return Consent{}, fmt.Errorf("read consent tags: %w", err)
	}
	c.GrantedAt, c.WithdrawnAt, c.UpdatedAt = nullTime(grantedAt), nullTime(withdrAt), time.Unix(0, updated).UTC()
	rows, err := e.db.R.QueryContext(ctx, "SELECT at, granted, channel, proof, recorded_by FROM consent_log WHERE source = ? AND user_id = ? ORDER BY id", source, user)
	if err != nil {
		return Consent{}, fmt.Errorf("read consent history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h ConsentChange
		var at int64
		if err := rows.Scan(&at, &h.Granted, &h.Channel, &h.Proof, &h.By); err != nil {
			return Consent{}, fmt.Errorf("read consent history: %w", err)
		}
		h.At = time.Unix(0, at).UTC()
		c.History = append(c.History, h)
	}
	return c, rows.Err()
}

func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.Unix(0, v.Int64).UTC()
	return &t
}

// Filter selects decisions. The zero value lists the newest of all.
type Filter struct {
	Status   Status
	Reason   Reason
	Delivery Delivery
	Source   string
	UserID   string
	Campaign int64
	// Limit bounds the answer (default 50, at most 500).
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

const decisionColumns = `id, seq, at, decided_at, source, user_id, handle, item, item_id, fence_id, store, transition,
	campaign_id, status, reason, text, code, delivery, attempts, last_error, delivered_at, redeemed_at`

func scanDecisions(rows *sql.Rows) ([]Decision, error) {
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var (
			d                   Decision
			at, decided         int64
			trans, st, r, deliv string
			delivered, redeemed sql.NullInt64
		)
		if err := rows.Scan(&d.ID, &d.Seq, &at, &decided, &d.Source, &d.UserID, &d.Handle, &d.Item, &d.ItemID, &d.FenceID, &d.Store, &trans,
			&d.CampaignID, &st, &r, &d.Text, &d.Code, &deliv, &d.Attempts, &d.LastError, &delivered, &redeemed); err != nil {
			return nil, fmt.Errorf("read decision: %w", err)
		}
		d.At, d.DecidedAt = time.Unix(0, at).UTC(), time.Unix(0, decided).UTC()
		d.Transition, d.Status, d.Reason, d.Delivery = Transition(trans), Status(st), Reason(r), Delivery(deliv)
		d.DeliveredAt, d.RedeemedAt = nullTime(delivered), nullTime(redeemed)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	return out, nil
}

// Decisions lists decisions, newest first, and the cursor of the next page
// ("" at the end).
func (e *Engine) Decisions(ctx context.Context, f Filter) ([]Decision, string, error) {
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 0 || f.Limit > 500:
		return nil, "", fmt.Errorf("%w: limit: %d is outside 1-500", ErrInvalid, f.Limit)
	}
	switch f.Status {
	case "", StatusSent, StatusSkipped:
	default:
		return nil, "", fmt.Errorf("%w: status: %q is not sent or skipped", ErrInvalid, f.Status)
	}
	if f.Reason != "" && !slices.Contains(Reasons, f.Reason) {
		return nil, "", fmt.Errorf("%w: reason: %q is not a reason (%s)", ErrInvalid, f.Reason, reasonList())
	}
	switch f.Delivery {
	case "", DeliveryNone, DeliveryQueued, DeliveryDelivered, DeliveryDead, DeliveryCancelled:
	default:
		return nil, "", fmt.Errorf("%w: delivery: %q is not none, queued, delivered, dead or cancelled", ErrInvalid, f.Delivery)
	}
	where, args := []string{"1=1"}, []any{}
	if f.Cursor != "" {
		c, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || c <= 0 {
			return nil, "", fmt.Errorf("%w: cursor: %q is not a cursor this API gave", ErrInvalid, f.Cursor)
		}
		where, args = append(where, "id < ?"), append(args, c)
	}
	add := func(cond string, v any) {
		where, args = append(where, cond), append(args, v)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Reason != "" {
		add("reason = ?", string(f.Reason))
	}
	if f.Delivery != "" {
		add("delivery = ?", string(f.Delivery))
	}
	if f.Source != "" {
		add("source = ?", f.Source)
	}
	if f.UserID != "" {
		add("user_id = ?", f.UserID)
	}
	if f.Campaign != 0 {
		add("campaign_id = ?", f.Campaign)
	}
	args = append(args, f.Limit+1)
	rows, err := e.db.R.QueryContext(ctx, "SELECT "+decisionColumns+" FROM decisions WHERE "+strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT ?", args...)
	if err != nil {
		return nil, "", fmt.Errorf("list decisions: %w", err)
	}
	ds, err := scanDecisions(rows)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ds) > f.Limit {
		ds = ds[:f.Limit]
		next = strconv.FormatInt(ds[len(ds)-1].ID, 10)
	}
	return ds, next, nil
}

func reasonList() string {
	s := make([]string, len(Reasons))
	for i, r := range Reasons {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// Decision returns one decision, or ErrNotFound.
func (e *Engine) Decision(ctx context.Context, id int64) (Decision, error) {
	rows, err := e.db.R.QueryContext(ctx, "SELECT "+decisionColumns+" FROM decisions WHERE id = ?", id)
	if err != nil {
		return Decision{}, fmt.Errorf("read decision %d: %w", id, err)
	}
	ds, err := scanDecisions(rows)
	if err != nil {
		return Decision{}, err
	}
	if len(ds) == 0 {
		return Decision{}, fmt.Errorf("offer %d: %w", id, ErrNotFound)
	}
	return ds[0], nil
}

// Redeem records that offer id was redeemed (at, with the gateway's
// reference). Redeeming twice keeps the first time. A skipped decision is
// not an offer: ErrNotFound.
func (e *Engine) Redeem(ctx context.Context, id int64, at time.Time, ref string) (Decision, error) {
	if len(ref) > MaxNameBytes || !utf8.ValidString(ref) {
		return Decision{}, fmt.Errorf("%w: reference: valid UTF-8, at most %d bytes", ErrInvalid, MaxNameBytes)
	}
	if at.IsZero() {
		at = e.cfg.Now()
	}
	tx, err := e.db.Begin(ctx)
	if err != nil {
		return Decision{}, fmt.Errorf("begin redemption: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "UPDATE decisions SET redeemed_at = ?, redeem_ref = ? WHERE id = ? AND status = 'sent' AND redeemed_at IS NULL", at.UTC().UnixNano(), ref, id)
	if err != nil {
		return Decision{}, fmt.Errorf("record redemption of offer %d: %w", id, err)
	}
	changed, _ := res.RowsAffected()
	var status string
	if err := tx.QueryRowContext(ctx, "SELECT status FROM decisions WHERE id = ?", id).Scan(&status); err != nil || status != string(StatusSent) {
		return Decision{}, fmt.Errorf("offer %d: %w", id, ErrNotFound)
	}
	if changed > 0 && e.pub != nil {
		rows, err := tx.QueryContext(ctx, "SELECT "+decisionColumns+" FROM decisions WHERE id = ?", id)
		if err != nil {
			return Decision{}, fmt.Errorf("read offer %d: %w", id, err)
		}
		ds, err := scanDecisions(rows)
		if err != nil || len(ds) == 0 {
			return Decision{}, fmt.Errorf("read offer %d: %w", id, err)
		}
		data, _ := json.Marshal(ds[0])
		if _, err := tx.ExecContext(ctx, "INSERT INTO outbox(type, data) VALUES(?, ?)", string(EventRedeemed), data); err != nil {
			return Decision{}, fmt.Errorf("queue redemption event: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Decision{}, fmt.Errorf("commit redemption: %w", err)
	}
	if changed > 0 {
		e.metrics.redeemed.Inc()
		wake(e.wakePublish)
	}
	return e.Decision(ctx, id)
}

// Retry puts a dead (or cancelled) offer back in the delivery queue, with
// its attempts reset. Consent is checked again before the call.
func (e *Engine) Retry(ctx context.Context, id int64) (Decision, error) {
	if e.cfg.GatewayURL == "" {
		return Decision{}, fmt.Errorf("%w: no gateway is configured", ErrInvalid)
	}
	res, err := e.db.Exec(ctx, "UPDATE decisions SET delivery = 'queued', attempts = 0, next_at = ?, last_error = '' WHERE id = ? AND delivery IN ('dead', 'cancelled')", e.cfg.Now().UnixNano(), id)
	if err != nil {
		return Decision{}, fmt.Errorf("requeue offer %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		d, err := e.Decision(ctx, id)
		if err != nil {
			return Decision{}, err
		}
		return Decision{}, fmt.Errorf("%w: offer %d is %s, only a dead or cancelled offer can be retried", ErrInvalid, id, d.Delivery)
	}
	wake(e.wakeDeliver)
	return e.Decision(ctx, id)
}

// Profile returns a person's consent (nil when never recorded), newest
// offers and skipped decisions by reason.
func (e *Engine) Profile(ctx context.Context, source, user string) (Profile, error) {
	p := Profile{Offers: []Decision{}, Skipped: map[Reason]int{}}
	c, err := e.Consent(ctx, source, user)
	switch {
	case err == nil:
		p.Consent = &c
	case !errors.Is(err, ErrNotFound):
		return Profile{}, err
	}
	ds, _, err := e.Decisions(ctx, Filter{Source: source, UserID: user, Status: StatusSent, Limit: 100})
	if err != nil {
		return Profile{}, err
	}
	p.Offers = append(p.Offers, ds...)
	rows, err := e.db.R.QueryContext(ctx, "SELECT reason, COUNT(*) FROM decisions WHERE source = ? AND user_id = ? AND status = 'skipped' GROUP BY reason", source, user)
	if err != nil {
		return Profile{}, fmt.Errorf("count skipped decisions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return Profile{}, fmt.Errorf("count skipped decisions: %w", err)
		}
		p.Skipped[Reason(r)] = n
	}
	return p, rows.Err()
}
