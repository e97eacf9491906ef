package crm

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/offer"
)

// seen is what one event tells of an identity.
type seen struct {
	source, authorID string
	handle, name     string
	followers        int64
	influence        int
	hasInfluence     bool
	at               time.Time
}

// identity records what an event tells of an author, creating the identity
// (alone in a new profile) the first time.
func (a *applier) identity(s seen) error {
	var (
		profileID, followers, lastSeen int64
		influence                      int
		handle, name, curURL           string
	)
	err := a.queryRow("SELECT profile_id, handle, name, url, followers, influence, last_seen FROM identities WHERE source=? AND author_id=?", s.source, s.authorID).
		Scan(&profileID, &handle, &name, &curURL, &followers, &influence, &lastSeen)
	at := s.at.UnixNano()
	url := profileURL(s.source, s.handle)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := a.exec("INSERT INTO profiles(created_at, updated_at) VALUES(?,?)", at, at)
		if err != nil {
			return fmt.Errorf("create profile: %w", err)
		}
		profileID, _ = res.LastInsertId()
		_, err = a.exec(`INSERT INTO identities(source, author_id, profile_id, handle, handle_key, name, name_key, url, url_key, followers, influence, first_seen, last_seen)
			VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			s.source, s.authorID, profileID, s.handle, handleKey(s.handle), s.name, nameKey(s.name), url, urlKey(url), s.followers, s.influence, at, at)
		if err != nil {
			return fmt.Errorf("create identity: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("look up identity: %w", err)
	}
	// Most events of a known author change nothing but when they were
	// last seen: write just that, and leave the handle, name and link
	// indexes alone.
	same := (s.handle == "" || s.handle == handle) && (s.name == "" || s.name == name) && (url == "" || url == curURL) &&
		(s.followers <= 0 || s.followers == followers) && (!s.hasInfluence || s.influence == influence)
	if same {
		if at <= lastSeen {
			return nil
		}
		if _, err := a.exec("UPDATE identities SET last_seen=? WHERE source=? AND author_id=?", at, s.source, s.authorID); err != nil {
			return fmt.Errorf("update identity: %w", err)
		}
		return nil
	}
	// Keep what we knew when this event does not say (a redacted event,
	// an offer that knows only the handle).
	_, err = a.exec(`UPDATE identities SET
		handle=CASE WHEN ?1 != '' THEN ?1 ELSE handle END,
		handle_key=CASE WHEN ?1 != '' THEN ?2 ELSE handle_key END,
		name=CASE WHEN ?3 != '' THEN ?3 ELSE name END,
		name_key=CASE WHEN ?3 != '' THEN ?4 ELSE name_key END,
		url=CASE WHEN ?5 != '' THEN ?5 ELSE url END,
		url_key=CASE WHEN ?5 != '' THEN ?6 ELSE url_key END,
		followers=CASE WHEN ?7 > 0 THEN ?7 ELSE followers END,
		influence=CASE WHEN ?8 THEN ?9 ELSE influence END,
		last_seen=MAX(last_seen, ?10)
		WHERE source=?11 AND author_id=?12`,
		s.handle, handleKey(s.handle), s.name, nameKey(s.name), url, urlKey(url), s.followers, s.hasInfluence, s.influence, at, s.source, s.authorID)
	if err != nil {
		return fmt.Errorf("update identity: %w", err)
	}
	return nil
}

func (a *applier) mention(md *desk.MentionData, evAt time.Time) error {
	m := &md.Mention
	if m.Source == "" || m.ID == "" || m.Author.ID == "" {
		return nil
	}
	at := m.CreatedAt
	if at.IsZero() {
		at = evAt
	}
	if err := a.identity(seen{source: m.Source, authorID: m.Author.ID, handle: m.Author.Handle, name: m.Author.Name,
		followers: m.Author.Followers, influence: md.Enrichment.Influence, hasInfluence: true, at: at}); err != nil {
		return err
	}
	tags, _ := json.Marshal(nonNil(md.Decision.Tags))
	_, err := a.exec(`INSERT INTO mentions(source, id, author_id, at, ticket_id, queue, sentiment, intent, tags, text, url, reply_to) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(source, id) DO UPDATE SET ticket_id=CASE WHEN excluded.ticket_id != 0 THEN excluded.ticket_id ELSE ticket_id END,
		queue=excluded.queue, sentiment=excluded.sentiment, intent=excluded.intent, tags=excluded.tags, text=excluded.text, url=excluded.url,
		reply_to=excluded.reply_to`,
		m.Source, m.ID, m.Author.ID, at.UnixNano(), md.TicketID, md.Decision.Queue, md.Enrichment.Sentiment, md.Enrichment.Intent, tags, m.Text, m.URL, m.ReplyTo)
	if err != nil {
		return fmt.Errorf("save mention: %w", err)
	}
	if err := a.campaignReply(m, at); err != nil {
		return err
	}
	for _, k := range linkedProfiles(m.Text) {
		if k == urlKey(profileURL(m.Source, m.Author.Handle)) {
			continue // a link to oneself
		}
		if _, err := a.exec("INSERT OR IGNORE INTO identity_links(source, author_id, url_key) VALUES(?,?,?)", m.Source, m.Author.ID, k); err != nil {
			return fmt.Errorf("save profile link: %w", err)
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *applier) ticket(td *desk.TicketData, evAt time.Time) error {
	t := &td.Ticket
	if t.ID == 0 || t.Author.ID == "" {
		return nil
	}
	var prev string
	err := a.queryRow("SELECT status FROM tickets WHERE id=?", t.ID).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("look up ticket: %w", err)
	}
	_, err = a.exec(`INSERT INTO tickets(id, source, author_id, queue, status, assignee, conversation, created_at, first_response_at, resolved_at) VALUES(?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET queue=excluded.queue, status=excluded.status, assignee=excluded.assignee,
		first_response_at=excluded.first_response_at, resolved_at=excluded.resolved_at`,
		t.ID, t.Source, t.Author.ID, t.Queue, string(t.Status), t.Assignee, t.Conversation, t.CreatedAt.UnixNano(), nanos(t.FirstResponseAt), nanos(t.ResolvedAt))
	if err != nil {
		return fmt.Errorf("save ticket: %w", err)
	}
	if msg := td.Message; td.Change == desk.ChangeDelivery && msg != nil && msg.Direction == desk.Outbound && msg.NativeID != "" && msg.Delivery == desk.DeliverySent {
		// The brand's post on the network: what interactions answer.
		if _, err := a.exec("INSERT OR IGNORE INTO brand_posts(source, id, at, ticket_id) VALUES(?,?,?,?)", msg.Source, msg.NativeID, evAt.UnixNano(), t.ID); err != nil {
			return fmt.Errorf("save brand post: %w", err)
		}
	}
	if t.Status == desk.StatusResolved && prev != string(desk.StatusResolved) {
		return a.offerSurvey(t, evAt)
	}
	return nil
}

func nanos(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

func (a *applier) offer(d *offer.Decision, typ desk.EventType, evAt time.Time) error {
	at := d.At
	if at.IsZero() {
		at = evAt
	}
	if err := a.identity(seen{source: d.Source, authorID: d.UserID, handle: d.Handle, at: at}); err != nil {
		return err
	}
	var redeemed any
	if typ == offer.EventRedeemed {
		r := evAt
		if d.RedeemedAt != nil {
			r = *d.RedeemedAt
		}
		redeemed = r.UnixNano()
	}
	_, err := a.exec(`INSERT INTO offers(id, source, user_id, at, status, reason, store, campaign_id, item, redeemed_at) VALUES(?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET status=excluded.status, reason=excluded.reason, redeemed_at=COALESCE(excluded.redeemed_at, redeemed_at)`,
		d.ID, d.Source, d.UserID, at.UnixNano(), string(d.Status), string(d.Reason), d.Store, d.CampaignID, d.Item, redeemed)
	if err != nil {
		return fmt.Errorf("save offer: %w", err)
	}
	return nil
}

// erase removes an account and everything derived from it; its profile
// goes too when no identity is left.
func (a *applier) erase(source, authorID string) error {
	var profileID int64
	err := a.queryRow("SELECT profile_id FROM identities WHERE source=? AND author_id=?", source, authorID).Scan(&profileID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("look up erased identity: %w", err)
	}
	for _, q := range []string{
		"DELETE FROM identities WHERE source=? AND author_id=?",
		"DELETE FROM identity_links WHERE source=? AND author_id=?",
		"DELETE FROM mentions WHERE source=? AND author_id=?",
		"DELETE FROM brand_posts WHERE ticket_id IN (SELECT id FROM tickets WHERE source=? AND author_id=?)",
		"DELETE FROM tickets WHERE source=? AND author_id=?",
		"DELETE FROM surveys WHERE source=? AND author_id=?",
		"DELETE FROM offers WHERE source=? AND user_id=?",
		"DELETE FROM outbox WHERE source=? AND author_id=?",
		"DELETE FROM campaign_recipients WHERE source=? AND author_id=?",
	} {
		if _, err := a.tx.ExecContext(a.ctx, q, source, authorID); err != nil {
			return fmt.Errorf("erase identity: %w", err)
		}
	}
	if profileID == 0 {
		return nil
	}
	return deleteIfEmpty(a.ctx, a.tx, profileID)
}
