package crm

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/listener"
)

// CampaignStatus is where a campaign stands.
type CampaignStatus string

// The campaign statuses. draft → (start) → scheduled → running → done;
// scheduled and running can be paused (start resumes) and any but done
// cancelled.
const (
	CampaignDraft     CampaignStatus = "draft"
	CampaignScheduled CampaignStatus = "scheduled"
	CampaignRunning   CampaignStatus = "running"
	CampaignPaused    CampaignStatus = "paused"
	CampaignDone      CampaignStatus = "done"
	CampaignCancelled CampaignStatus = "cancelled"
)

// RecipientStatus is where one person's message stands.
type RecipientStatus string

// The recipient statuses. A sent message may later be replied to
// (Recipient.RepliedAt).
const (
	RecipientQueued    RecipientStatus = "queued"
	RecipientSent      RecipientStatus = "sent"
	RecipientFailed    RecipientStatus = "failed"
	RecipientSkipped   RecipientStatus = "skipped"
	RecipientCancelled RecipientStatus = "cancelled"
)

// The reasons a person of the segment is skipped.
const (
	SkipNoConsent    = "no_consent"    // the profile holds no consent
	SkipFrequencyCap = "frequency_cap" // the person had their share of campaign messages
	SkipNoPost       = "no_post"       // no post of theirs on the campaign's networks to answer
)

// The events campaigns publish, on desk.TopicOffers with the geolocated
// offers, marketing's (data: Campaign).
const (
	EventCampaignStarted  desk.EventType = "campaign.started"
	EventCampaignPaused   desk.EventType = "campaign.paused"
	EventCampaignFinished desk.EventType = "campaign.finished"
)

// Campaign is outbound messages to a segment through the networks that
// allow them: each consenting person of the segment gets the template, at
// most once, on the first of Networks where they have a post to answer.
type Campaign struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	SegmentID int64    `json:"segment_id"`
	Networks  []string `json:"networks"`
	// Template is the message; {name} and {handle} are the person's.
	Template string `json:"template"`
	// StartAt schedules the start (nil: as soon as started).
	StartAt   *time.Time     `json:"start_at,omitempty"`
	Status    CampaignStatus `json:"status"`
	Error     string         `json:"error,omitempty"`
	PlannedAt *time.Time     `json:"planned_at,omitempty"`
	CreatedBy string         `json:"created_by"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Stats     CampaignStats  `json:"stats"`
}

// CampaignStats counts a campaign's recipients by status.
type CampaignStats struct {
	Recipients int `json:"recipients"`
	Queued     int `json:"queued"`
	Sent       int `json:"sent"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
	Cancelled  int `json:"cancelled"`
	// Replied counts sent messages the person answered.
	Replied int `json:"replied"`
	// SkippedBy counts the skipped by reason.
	SkippedBy map[string]int `json:"skipped_by"`
}

// Recipient is one person's message of a campaign.
type Recipient struct {
	Source   string          `json:"source"`
	AuthorID string          `json:"author_id"`
	Status   RecipientStatus `json:"status"`
	// Reason says why it was skipped or failed.
	Reason     string     `json:"reason,omitempty"`
	Attempts   int        `json:"attempts"`
	QueuedAt   time.Time  `json:"queued_at"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
	ExternalID string     `json:"external_id,omitempty"`
	RepliedAt  *time.Time `json:"replied_at,omitempty"`
	ReplyID    string     `json:"reply_id,omitempty"`
}

// CampaignRequest creates a campaign.
type CampaignRequest struct {
	Name      string     `json:"name"`
	SegmentID int64      `json:"segment_id"`
	Networks  []string   `json:"networks"`
	Template  string     `json:"template"`
	StartAt   *time.Time `json:"start_at,omitempty"`
}

// maxTemplate bounds a campaign's template: a few posts' worth.
const maxTemplate = 2000

// SetReplier sets what posts campaign messages: the connectors' reply
// path the desk's replies take (a desk.Sandbox in tests). Without one,
// campaigns plan their recipients but send nothing. Call it before Run.
func (c *CRM) SetReplier(r desk.Replier) { c.replier = r }

// CreateCampaign saves a draft campaign.
func (c *CRM) CreateCampaign(ctx context.Context, req CampaignRequest, actor string) (Campaign, error) {
	req.Name = strings.TrimSpace(req.Name)
	if err := checkSegmentName(req.Name); err != nil {
		return Campaign{}, err
	}
	if strings.TrimSpace(req.Template) == "" || len(req.Template) > maxTemplate || !utf8.ValidString(req.Template) {
		return Campaign{}, fmt.Errorf("%w: template: 1 to %d bytes of UTF-8", ErrInvalid, maxTemplate)
	}
	if len(req.Networks) == 0 {
		return Campaign{}, fmt.Errorf("%w: networks: at least one", ErrInvalid)
	}
	for i, n := range req.Networks {
		if _, ok := c.cfg.Campaigns.Networks[n]; !ok {
			return Campaign{}, fmt.Errorf("%w: networks: %q allows no campaign here (allowed: %s)", ErrInvalid, n, strings.Join(c.allowedNetworks(), ", "))
		}
		if slices.Contains(req.Networks[:i], n) {
			return Campaign{}, fmt.Errorf("%w: networks: %q twice", ErrInvalid, n)
		}
	}
	if _, err := c.Segment(ctx, req.SegmentID); err != nil {
		return Campaign{}, err
	}
	nets, _ := json.Marshal(req.Networks)
	now := c.cfg.Now().UnixNano()
	var id int64
	err := c.write(ctx, func(tx *sqlite.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO campaigns(name, segment_id, networks, template, start_at, status, created_by, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?)",
			req.Name, req.SegmentID, nets, req.Template, nanosOf(req.StartAt), string(CampaignDraft), actor, now, now)
		if err != nil {
			return fmt.Errorf("save campaign: %w", err)
		}
		id, _ = res.LastInsertId()
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return c.Campaign(ctx, id)
}

func nanosOf(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

func (c *CRM) allowedNetworks() []string {
	var out []string
	for n := range c.cfg.Campaigns.Networks {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

const campaignColumns = "id, name, segment_id, networks, template, start_at, status, error, planned_at, created_by, created_at, updated_at"

func scanCampaign(s interface{ Scan(...any) error }) (Campaign, error) {
	var cp Campaign
	var nets string
	var start, planned sql.NullInt64
	var created, updated int64
	var status string
	err := s.Scan(&cp.ID, &cp.Name, &cp.SegmentID, &nets, &cp.Template, &start, &status, &cp.Error, &planned, &cp.CreatedBy, &created, &updated)
	if err != nil {
		return Campaign{}, err
	}
	cp.Status, cp.StartAt, cp.PlannedAt = CampaignStatus(status), timePtr(start), timePtr(planned)
	cp.CreatedAt, cp.UpdatedAt = timeOf(created), timeOf(updated)
	if err := json.Unmarshal([]byte(nets), &cp.Networks); err != nil {
		return Campaign{}, fmt.Errorf("decode networks: %w", err)
	}
	return cp, nil
}

// Campaign returns a campaign with its stats.
func (c *CRM) Campaign(ctx context.Context, id int64) (Campaign, error) {
	return c.campaign(ctx, c.db.R, id)
}

func (c *CRM) campaign(ctx context.Context, q querier, id int64) (Campaign, error) {
	cp, err := scanCampaign(q.QueryRowContext(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE id=?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Campaign{}, fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Campaign{}, fmt.Errorf("read campaign %d: %w", id, err)
	}
	if cp.Stats, err = campaignStats(ctx, q, id); err != nil {
		return Campaign{}, err
	}
	return cp, nil
}

func campaignStats(ctx context.Context, q querier, id int64) (CampaignStats, error) {
	st := CampaignStats{SkippedBy: map[string]int{}}
	rows, err := q.QueryContext(ctx, "SELECT status, reason, COUNT(*), COUNT(replied_at) FROM campaign_recipients WHERE campaign_id=? GROUP BY 1, 2", id)
	if err != nil {
		return st, fmt.Errorf("count recipients of campaign %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, reason string
		var n, replied int
		if err := rows.Scan(&status, &reason, &n, &replied); err != nil {
			return st, fmt.Errorf("count recipients of campaign %d: %w", id, err)
		}
		st.Recipients += n
		st.Replied += replied
		switch RecipientStatus(status) {
		case RecipientQueued:
			st.Queued += n
		case RecipientSent:
			st.Sent += n
		case RecipientFailed:
			st.Failed += n
		case RecipientSkipped:
			st.Skipped += n
			st.SkippedBy[reason] += n
		case RecipientCancelled:
			st.Cancelled += n
		}
	}
	return st, rows.Err()
}

// Campaigns lists the campaigns, newest first, with their stats.
func (c *CRM) Campaigns(ctx context.Context) ([]Campaign, error) {
	ids, err := c.ids(ctx, "SELECT id FROM campaigns ORDER BY id DESC LIMIT 500")
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out := []Campaign{}
	for _, id := range ids {
		cp, err := c.Campaign(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	return out, nil
}

// CampaignAction changes a campaign's course.
type CampaignAction string

// The actions on a campaign.
const (
	ActionStart  CampaignAction = "start"  // a draft starts (or is scheduled); a paused one resumes
	ActionPause  CampaignAction = "pause"  // nothing more is sent until it is started again
	ActionCancel CampaignAction = "cancel" // the messages not sent yet never will be
)

// ChangeCampaign applies an action: a change that does not fit the
// campaign's status is ErrConflict.
func (c *CRM) ChangeCampaign(ctx context.Context, id int64, action CampaignAction) (Campaign, error) {
	now := c.cfg.Now()
	err := c.write(ctx, func(tx *sqlite.Tx) error {
		cp, err := c.campaign(ctx, tx, id)
		if err != nil {
			return err
		}
		var to CampaignStatus
		var ev desk.EventType
		switch action {
		case ActionStart:
			if cp.Status != CampaignDraft && cp.Status != CampaignPaused {
				return fmt.Errorf("%w: campaign %d is %s: only a draft or a paused campaign starts", ErrConflict, id, cp.Status)
			}
			to, ev = CampaignRunning, EventCampaignStarted
			if cp.StartAt != nil && cp.StartAt.After(now) {
				to, ev = CampaignScheduled, ""
			}
		case ActionPause:
			if cp.Status != CampaignRunning && cp.Status != CampaignScheduled {
				return fmt.Errorf("%w: campaign %d is %s: only a running or scheduled campaign pauses", ErrConflict, id, cp.Status)
			}
			to, ev = CampaignPaused, EventCampaignPaused
		case ActionCancel:
			if cp.Status == CampaignDone || cp.Status == CampaignCancelled {
				return fmt.Errorf("%w: campaign %d is %s already", ErrConflict, id, cp.Status)
			}
			to, ev = CampaignCancelled, EventCampaignFinished
			if _, err := tx.ExecContext(ctx, "UPDATE campaign_recipients SET status=?, reason='campaign cancelled' WHERE campaign_id=? AND status=?", string(RecipientCancelled), id, string(RecipientQueued)); err != nil {
				return fmt.Errorf("cancel recipients: %w", err)
			}
		default:
			return fmt.Errorf("%w: action %q: want start, pause or cancel", ErrInvalid, action)
		}
		if to == CampaignRunning && cp.PlannedAt == nil {
			// Its recipients are listed from the start.
			if err := c.plan(ctx, tx, &cp, now); err != nil || cp.Status == CampaignCancelled {
				return err
			}
		}
		return c.setCampaignStatus(ctx, tx, &cp, to, ev, now)
	})
	if err != nil {
		return Campaign{}, err
	}
	wake(c.wakeCamp)
	wake(c.wakePublish)
	return c.Campaign(ctx, id)
}

// setCampaignStatus records a status and queues its event (ev "": none).
func (c *CRM) setCampaignStatus(ctx context.Context, tx *sqlite.Tx, cp *Campaign, to CampaignStatus, ev desk.EventType, now time.Time) error {
	if _, err := tx.ExecContext(ctx, "UPDATE campaigns SET status=?, error=?, updated_at=? WHERE id=?", string(to), cp.Error, now.UnixNano(), cp.ID); err != nil {
		return fmt.Errorf("save campaign status: %w", err)
	}
	c.metrics.campaigns.WithLabelValues(string(to)).Inc()
	cp.Status, cp.UpdatedAt = to, now
	if ev == "" {
		return nil
	}
	var err error
	if cp.Stats, err = campaignStats(ctx, tx, cp.ID); err != nil {
		return err
	}
	return queueEventOn(ctx, tx, desk.TopicOffers, ev, "", "", cp)
}

// RecipientPage is one page of a campaign's recipients.
type RecipientPage struct {
	Recipients []Recipient `json:"recipients"`
	NextCursor string      `json:"next_cursor"`
}

// Recipients lists a campaign's recipients in planning order, optionally
// of one status, by keyset pagination (limit 0 means 50, at most 500).
func (c *CRM) Recipients(ctx context.Context, id int64, status RecipientStatus, limit int, cursor string) (RecipientPage, error) {
	limit, err := checkLimit(limit)
	if err != nil {
		return RecipientPage{}, err
	}
	if _, err := c.Campaign(ctx, id); err != nil {
		return RecipientPage{}, err
	}
	after := int64(0)
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		rest, ok := strings.CutPrefix(string(b), "r:")
		if err == nil && ok {
			after, err = strconv.ParseInt(rest, 10, 64)
		}
		if err != nil || !ok || after <= 0 {
			return RecipientPage{}, fmt.Errorf("%w: cursor: not one this server gave", ErrInvalid)
		}
	}
	switch status {
	case "", RecipientQueued, RecipientSent, RecipientFailed, RecipientSkipped, RecipientCancelled:
	default:
		return RecipientPage{}, fmt.Errorf("%w: status %q: want queued, sent, failed, skipped or cancelled", ErrInvalid, status)
	}
	rows, err := c.db.R.QueryContext(ctx, `SELECT id, source, author_id, status, reason, attempts, queued_at, sent_at, external_id, replied_at, reply_id
		FROM campaign_recipients WHERE campaign_id=? AND id>? AND (?='' OR status=?) ORDER BY id LIMIT ?`, id, after, string(status), string(status), limit+1)
	if err != nil {
		return RecipientPage{}, fmt.Errorf("list recipients: %w", err)
	}
	defer rows.Close()
	page := RecipientPage{Recipients: []Recipient{}}
	var last int64
	for rows.Next() {
		if len(page.Recipients) == limit {
			page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte("r:" + strconv.FormatInt(last, 10)))
			break
		}
		var r Recipient
		var st string
		var queued int64
		var sent, replied sql.NullInt64
		if err := rows.Scan(&last, &r.Source, &r.AuthorID, &st, &r.Reason, &r.Attempts, &queued, &sent, &r.ExternalID, &replied, &r.ReplyID); err != nil {
			return RecipientPage{}, fmt.Errorf("list recipients: %w", err)
		}
		r.Status, r.QueuedAt, r.SentAt, r.RepliedAt = RecipientStatus(st), timeOf(queued), timePtr(sent), timePtr(replied)
		page.Recipients = append(page.Recipients, r)
	}
	return page, rows.Err()
}

// recipientKey is the idempotency key of one person's message of a
// campaign: the same on every attempt, across restarts.
func recipientKey(campaignID int64, source, authorID string) string {
	h := sha256.Sum256([]byte(source + "\x00" + authorID))
	return fmt.Sprintf("vigie-campaign-%d-%s", campaignID, hex.EncodeToString(h[:12]))
}

// render fills a template with the person's name and handle.
func render(tpl, handle, name string) string {
	if name == "" {
		name = handle
	}
	return strings.NewReplacer("{name}", name, "{handle}", handle).Replace(tpl)
}

// plan resolves a running campaign's segment into recipients, once: per
// person, the first of the campaign's networks where they have a post to
// answer. A person without consent is recorded as skipped and never gets
// a message.
func (c *CRM) plan(ctx context.Context, tx *sqlite.Tx, cp *Campaign, now time.Time) error {
	seg, err := scanSegment(tx.QueryRowContext(ctx, "SELECT id, name, filter, created_by, created_at, updated_at FROM segments WHERE id=?", cp.SegmentID))
	if errors.Is(err, sql.ErrNoRows) {
		cp.Error = fmt.Sprintf("segment %d no longer exists", cp.SegmentID)
		return c.setCampaignStatus(ctx, tx, cp, CampaignCancelled, EventCampaignFinished, now)
	}
	if err != nil {
		return fmt.Errorf("read segment of campaign %d: %w", cp.ID, err)
	}
	where, args := seg.Filter.where(now)
	nets := make([]any, len(cp.Networks))
	for i, n := range cp.Networks {
		nets[i] = n
	}
	q := `SELECT p.id, p.consent, i.source, i.author_id, i.handle, i.name,
		COALESCE((SELECT m.id FROM mentions m WHERE m.source=i.source AND m.author_id=i.author_id ORDER BY m.at DESC LIMIT 1), '')
		FROM profiles p JOIN identities i ON i.profile_id=p.id
		WHERE ` + where + ` AND i.source IN (` + strings.TrimSuffix(strings.Repeat("?,", len(nets)), ",") + `) ORDER BY p.id, i.first_seen, i.source, i.author_id`
	rows, err := tx.QueryContext(ctx, q, append(args, nets...)...)
	if err != nil {
		return fmt.Errorf("plan campaign %d: %w", cp.ID, err)
	}
	type ident struct {
		source, authorID, handle, name, post string
	}
	type person struct {
		consent bool
		ids     []ident
	}
	var order []int64
	people := map[int64]*person{}
	for rows.Next() {
		var pid int64
		var consent int
		var i ident
		if err := rows.Scan(&pid, &consent, &i.source, &i.authorID, &i.handle, &i.name, &i.post); err != nil {
			rows.Close()
			return fmt.Errorf("plan campaign %d: %w", cp.ID, err)
		}
		p := people[pid]
		if p == nil {
			p = &person{consent: consent == 1}
			people[pid] = p
			order = append(order, pid)
		}
		p.ids = append(p.ids, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("plan campaign %d: %w", cp.ID, err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO campaign_recipients(campaign_id, source, author_id, idempotency_key, reply_to, text, status, reason, next_at, queued_at)
		VALUES(?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return fmt.Errorf("plan campaign %d: %w", cp.ID, err)
	}
	defer ins.Close()
	at := now.UnixNano()
	for _, pid := range order {
		p := people[pid]
		// The first network of the campaign's order where the person has
		// a post to answer.
		var pick *ident
		for _, n := range cp.Networks {
			for k := range p.ids {
				if pick == nil && p.ids[k].source == n && p.ids[k].post != "" {
					pick = &p.ids[k]
				}
			}
		}
		status, reason := RecipientQueued, ""
		switch {
		case !p.consent:
			status, reason = RecipientSkipped, SkipNoConsent
		case pick == nil:
			status, reason = RecipientSkipped, SkipNoPost
		}
		if pick == nil {
			pick = &p.ids[0]
		}
		text, replyTo := "", ""
		if status == RecipientQueued {
			text, replyTo = render(cp.Template, pick.handle, pick.name), pick.post
		}
		if _, err := ins.ExecContext(ctx, cp.ID, pick.source, pick.authorID, recipientKey(cp.ID, pick.source, pick.authorID), replyTo, text, string(status), reason, at, at); err != nil {
			return fmt.Errorf("plan campaign %d: %w", cp.ID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE campaigns SET planned_at=? WHERE id=?", at, cp.ID); err != nil {
		return fmt.Errorf("plan campaign %d: %w", cp.ID, err)
	}
	cp.PlannedAt = &now
	return nil
}

// runCampaigns starts, plans and sends campaigns until ctx is done.
func (c *CRM) runCampaigns(ctx context.Context) {
	backoff := time.Second
	for {
		next, err := c.CampaignStep(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Duration(0)
		switch {
		case err != nil:
			c.log.Error("campaign_step_failed", "error", err, "retry_in", backoff)
			wait, backoff = backoff, min(2*backoff, time.Minute)
		case !next.IsZero():
			backoff = time.Second
			wait = max(next.Sub(c.cfg.Now()), 10*time.Millisecond)
		default:
			backoff = time.Second
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-c.wakeCamp:
		case <-fire:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// due is one message to send.
type due struct {
	id, campaignID     int64
	source, authorID   string
	key, replyTo, text string
	attempts           int
}

// CampaignStep does what campaigns need now: starts the scheduled ones
// whose time came, plans the recipients of those just started, sends the
// messages due within each network's rate limit, and finishes the
// campaigns left with nothing to send. It returns when it should run
// again (zero: when something changes). Run calls it; tests call it with
// their clock.
func (c *CRM) CampaignStep(ctx context.Context) (time.Time, error) {
	now := c.cfg.Now()
	// Start and plan.
	err := c.write(ctx, func(tx *sqlite.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE (status=? AND start_at<=?) OR (status=? AND planned_at IS NULL) ORDER BY id",
			string(CampaignScheduled), now.UnixNano(), string(CampaignRunning))
		if err != nil {
			return fmt.Errorf("read campaigns to start: %w", err)
		}
		var start []Campaign
		for rows.Next() {
			cp, err := scanCampaign(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("read campaigns to start: %w", err)
			}
			start = append(start, cp)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read campaigns to start: %w", err)
		}
		for i := range start {
			cp := &start[i]
			if err := c.plan(ctx, tx, cp, now); err != nil {
				return err
			}
			if cp.Status == CampaignScheduled {
				if err := c.setCampaignStatus(ctx, tx, cp, CampaignRunning, EventCampaignStarted, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}

	// Send what is due, network by network within its bucket.
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if c.replier != nil {
		rows, err := c.db.R.QueryContext(ctx, `SELECT r.id, r.campaign_id, r.source, r.author_id, r.idempotency_key, r.reply_to, r.text, r.attempts
			FROM campaign_recipients r JOIN campaigns k ON k.id=r.campaign_id
			WHERE r.status='queued' AND k.status='running' AND r.next_at<=? ORDER BY r.next_at, r.id LIMIT 200`, now.UnixNano())
		if err != nil {
			return time.Time{}, fmt.Errorf("read messages due: %w", err)
		}
		var batch []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.campaignID, &d.source, &d.authorID, &d.key, &d.replyTo, &d.text, &d.attempts); err != nil {
				rows.Close()
				return time.Time{}, fmt.Errorf("read messages due: %w", err)
			}
			batch = append(batch, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return time.Time{}, fmt.Errorf("read messages due: %w", err)
		}
		blocked := map[string]bool{}
		for _, d := range batch {
			if blocked[d.source] {
				continue
			}
			if err := c.sendOne(ctx, d, now, func(retry time.Time) { blocked[d.source] = true; later(retry) }); err != nil {
				return time.Time{}, err
			}
		}
		if len(batch) == 200 {
			later(now) // more are due
		}
		// The next retry or message due.
		var n sql.NullInt64
		if err := c.db.R.QueryRowContext(ctx, `SELECT MIN(r.next_at) FROM campaign_recipients r JOIN campaigns k ON k.id=r.campaign_id
			WHERE r.status='queued' AND k.status='running' AND r.next_at>?`, now.UnixNano()).Scan(&n); err != nil {
			return time.Time{}, fmt.Errorf("read next message due: %w", err)
		}
		if n.Valid {
			later(timeOf(n.Int64))
		}
	}
	// Finish the campaigns left with nothing to send, and wake for the
	// next scheduled start.
	err = c.write(ctx, func(tx *sqlite.Tx) error {
		ids, err := queryIDs(ctx, tx, `SELECT id FROM campaigns k WHERE status=? AND planned_at IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id=k.id AND r.status='queued')`, string(CampaignRunning))
		if err != nil {
			return fmt.Errorf("read finished campaigns: %w", err)
		}
		for _, id := range ids {
			cp, err := c.campaign(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := c.setCampaignStatus(ctx, tx, &cp, CampaignDone, EventCampaignFinished, now); err != nil {
				return err
			}
		}
		var s sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT MIN(start_at) FROM campaigns WHERE status=?", string(CampaignScheduled)).Scan(&s); err != nil {
			return fmt.Errorf("read next start: %w", err)
		}
		if s.Valid {
			later(timeOf(s.Int64))
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	wake(c.wakePublish)
	return next, nil
}

func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// sendOne sends one message, unless the person no longer consents or had
// their share of campaign messages, or the network's bucket is empty
// (throttled is then told when a token comes).
func (c *CRM) sendOne(ctx context.Context, d due, now time.Time, throttled func(time.Time)) error {
	// A pause or a cancel since the batch was read stops it here.
	var status string
	if err := c.db.R.QueryRowContext(ctx, "SELECT status FROM campaigns WHERE id=?", d.campaignID).Scan(&status); err != nil {
		return fmt.Errorf("read campaign %d: %w", d.campaignID, err)
	}
	if CampaignStatus(status) != CampaignRunning {
		return nil
	}
	// Consent and frequency cap, as they are now: consent can be withdrawn
	// and another campaign can have reached the person since planning.
	var profileID int64
	var consent int
	err := c.db.R.QueryRowContext(ctx, "SELECT p.id, p.consent FROM identities i JOIN profiles p ON p.id=i.profile_id WHERE i.source=? AND i.author_id=?", d.source, d.authorID).
		Scan(&profileID, &consent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // erased meanwhile: its row goes with the erasure
	}
	if err != nil {
		return fmt.Errorf("read recipient's profile: %w", err)
	}
	skip := ""
	if consent != 1 {
		skip = SkipNoConsent
	} else {
		var n int
		err := c.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaign_recipients r JOIN identities i ON i.source=r.source AND i.author_id=r.author_id
			WHERE i.profile_id=? AND r.status='sent' AND r.sent_at>=?`, profileID, now.Add(-c.cfg.Campaigns.FrequencyWindow).UnixNano()).Scan(&n)
		if err != nil {
			return fmt.Errorf("count recipient's messages: %w", err)
		}
		if n >= c.cfg.Campaigns.FrequencyCap {
			skip = SkipFrequencyCap
		}
	}
	if skip != "" {
		c.metrics.campaignMessages.WithLabelValues(d.source, "skipped").Inc()
		return c.recordRecipient(ctx, d.id, RecipientSkipped, skip, d.attempts, "", now, time.Time{})
	}
	lim := c.limiters[d.source]
	if lim == nil { // the network's campaigns were disallowed since
		return c.recordRecipient(ctx, d.id, RecipientFailed, "network "+d.source+" allows no campaign", d.attempts, "", now, time.Time{})
	}
	res := lim.ReserveN(now, 1)
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		c.metrics.campaignThrottled.WithLabelValues(d.source).Inc()
		throttled(now.Add(wait))
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	extID, perr := c.replier.Post(pctx, desk.Reply{Source: d.source, InReplyTo: d.replyTo, Text: d.text, IdempotencyKey: d.key})
	cancel()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	attempts := d.attempts + 1
	switch {
	case perr == nil:
		c.metrics.campaignMessages.WithLabelValues(d.source, "sent").Inc()
		return c.recordRecipient(ctx, d.id, RecipientSent, "", attempts, extID, now, time.Time{})
	case errors.Is(perr, desk.ErrPermanent) || attempts >= c.cfg.Campaigns.MaxAttempts:
		c.metrics.campaignMessages.WithLabelValues(d.source, "failed").Inc()
		return c.recordRecipient(ctx, d.id, RecipientFailed, perr.Error(), attempts, "", now, time.Time{})
	default:
		c.metrics.campaignMessages.WithLabelValues(d.source, "retry").Inc()
		return c.recordRecipient(ctx, d.id, RecipientQueued, perr.Error(), attempts, "", now, now.Add(time.Duration(1<<min(attempts, 10))*time.Second))
	}
}

func (c *CRM) recordRecipient(ctx context.Context, id int64, status RecipientStatus, reason string, attempts int, extID string, now, next time.Time) error {
	return c.write(ctx, func(tx *sqlite.Tx) error {
		var sent any
		if status == RecipientSent {
			sent = now.UnixNano()
		}
		nextAt := now.UnixNano()
		if !next.IsZero() {
			nextAt = next.UnixNano()
		}
		// Only a queued message is settled: a cancel meanwhile wins.
		_, err := tx.ExecContext(ctx, "UPDATE campaign_recipients SET status=?, reason=?, attempts=?, external_id=?, sent_at=?, next_at=? WHERE id=? AND status='queued'",
			string(status), reason, attempts, extID, sent, nextAt, id)
		if err != nil {
			return fmt.Errorf("record campaign message: %w", err)
		}
		return nil
	})
}

// campaignReply marks the campaign messages a post of their recipient
// answers: a post in reply to the message itself (whatever its clock
// says: a network's timestamps are whole seconds), or any post within the
// reply window after it.
func (a *applier) campaignReply(m *listener.Mention, at time.Time) error {
	res, err := a.exec(`UPDATE campaign_recipients SET replied_at=?1, reply_id=?2
		WHERE source=?3 AND author_id=?4 AND status='sent' AND replied_at IS NULL
		AND ((external_id!='' AND external_id=?5) OR (?1>=sent_at AND ?1-sent_at<=?6))`,
		at.UnixNano(), m.ID, m.Source, m.Author.ID, m.ReplyTo, int64(a.c.cfg.Campaigns.ReplyWindow))
	if err != nil {
		return fmt.Errorf("track campaign replies: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		a.c.metrics.campaignMessages.WithLabelValues(m.Source, "replied").Add(float64(n))
	}
	return nil
}
