package crm

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// ItemKind names what a timeline item is.
type ItemKind string

// The kinds of timeline item.
const (
	KindMention ItemKind = "mention"
	KindTicket  ItemKind = "ticket"
	KindOffer   ItemKind = "offer"
	KindCSAT    ItemKind = "csat"
	KindConsent ItemKind = "consent"
)

// TimelineItem is one thing in a person's history. Kind says which of the
// fields are set.
type TimelineItem struct {
	Kind ItemKind  `json:"kind"`
	At   time.Time `json:"at"`
	// Source and AuthorID name the identity (empty for a consent, which is
	// the profile's).
	Source   string `json:"source,omitempty"`
	AuthorID string `json:"author_id,omitempty"`
	// ID is the mention's native id, or the ticket's or offer's id.
	ID       string `json:"id,omitempty"`
	TicketID int64  `json:"ticket_id,omitempty"`
	Queue    string `json:"queue,omitempty"`
	// Mention.
	Text      string   `json:"text,omitempty"`
	URL       string   `json:"url,omitempty"`
	Sentiment *float64 `json:"sentiment,omitempty"`
	Intent    string   `json:"intent,omitempty"`
	// Ticket (Status), offer (Status, Reason, Store, CampaignID, Item).
	Status          string     `json:"status,omitempty"`
	Assignee        string     `json:"assignee,omitempty"`
	Conversation    string     `json:"conversation,omitempty"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	Reason          string     `json:"reason,omitempty"`
	Store           string     `json:"store,omitempty"`
	CampaignID      int64      `json:"campaign_id,omitempty"`
	Item            string     `json:"item,omitempty"`
	RedeemedAt      *time.Time `json:"redeemed_at,omitempty"`
	// CSAT answer (also on its ticket).
	Rating  *int   `json:"rating,omitempty"`
	Comment string `json:"comment,omitempty"`
	// Consent.
	Granted *bool  `json:"granted,omitempty"`
	By      string `json:"by,omitempty"`
}

// Timeline returns up to limit (default 100, at most 500) items of the
// person's history before before (zero: now and later), newest first:
// tickets, mentions, offers (check-ins matched to a store), CSAT answers
// and consents, over every identity of the profile.
func (c *CRM) Timeline(ctx context.Context, id int64, before time.Time, limit int) ([]TimelineItem, error) {
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 500 {
		return nil, fmt.Errorf("%w: limit must be between 1 and 500", ErrInvalid)
	}
	if _, err := loadProfile(ctx, c.db.R, id, false); err != nil {
		return nil, err
	}
	end := int64(1<<63 - 1)
	if !before.IsZero() {
		end = before.UnixNano()
	}
	const ids = " JOIN identities i ON i.source=x.source AND i.author_id=x.%s WHERE i.profile_id=? AND x.%s < ? ORDER BY x.%s DESC LIMIT ?"
	var out []TimelineItem
	read := func(q string, scan func(rows *sql.Rows) (TimelineItem, error)) error {
		rows, err := c.db.R.QueryContext(ctx, q, id, end, limit)
		if err != nil {
			return fmt.Errorf("read timeline of profile %d: %w", id, err)
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scan(rows)
			if err != nil {
				return fmt.Errorf("read timeline of profile %d: %w", id, err)
			}
			out = append(out, it)
		}
		return rows.Err()
	}
	err := read("SELECT x.source, x.author_id, x.id, x.at, x.ticket_id, x.queue, x.text, x.url, x.sentiment, x.intent FROM mentions x"+fmt.Sprintf(ids, "author_id", "at", "at"),
		func(rows *sql.Rows) (TimelineItem, error) {
			it := TimelineItem{Kind: KindMention}
			var at int64
			var s float64
			err := rows.Scan(&it.Source, &it.AuthorID, &it.ID, &at, &it.TicketID, &it.Queue, &it.Text, &it.URL, &s, &it.Intent)
			it.At, it.Sentiment = timeOf(at), &s
			return it, err
		})
	if err != nil {
		return nil, err
	}
	err = read("SELECT x.source, x.author_id, x.id, x.created_at, x.queue, x.status, x.assignee, x.conversation, x.first_response_at, x.resolved_at, x.rating FROM tickets x"+fmt.Sprintf(ids, "author_id", "created_at", "created_at"),
		func(rows *sql.Rows) (TimelineItem, error) {
			it := TimelineItem{Kind: KindTicket}
			var at int64
			var first, resolved, rating sql.NullInt64
			err := rows.Scan(&it.Source, &it.AuthorID, &it.TicketID, &at, &it.Queue, &it.Status, &it.Assignee, &it.Conversation, &first, &resolved, &rating)
			it.At, it.FirstResponseAt, it.ResolvedAt, it.ID = timeOf(at), timePtr(first), timePtr(resolved), fmt.Sprint(it.TicketID)
			if rating.Valid {
				r := int(rating.Int64)
				it.Rating = &r
			}
			return it, err
		})
	if err != nil {
		return nil, err
	}
	err = read("SELECT x.source, x.author_id, x.id, x.rated_at, x.queue, x.rating, x.comment FROM tickets x"+fmt.Sprintf(ids, "author_id", "rated_at", "rated_at"),
		func(rows *sql.Rows) (TimelineItem, error) {
			it := TimelineItem{Kind: KindCSAT}
			var at int64
			var r int
			err := rows.Scan(&it.Source, &it.AuthorID, &it.TicketID, &at, &it.Queue, &r, &it.Comment)
			it.At, it.Rating = timeOf(at), &r
			return it, err
		})
	if err != nil {
		return nil, err
	}
	err = read("SELECT x.source, x.user_id, x.id, x.at, x.status, x.reason, x.store, x.campaign_id, x.item, x.redeemed_at FROM offers x"+fmt.Sprintf(ids, "user_id", "at", "at"),
		func(rows *sql.Rows) (TimelineItem, error) {
			it := TimelineItem{Kind: KindOffer}
			var at, oid int64
			var redeemed sql.NullInt64
			err := rows.Scan(&it.Source, &it.AuthorID, &oid, &at, &it.Status, &it.Reason, &it.Store, &it.CampaignID, &it.Item, &redeemed)
			it.At, it.RedeemedAt, it.ID = timeOf(at), timePtr(redeemed), fmt.Sprint(oid)
			return it, err
		})
	if err != nil {
		return nil, err
	}
	rows, err := c.db.R.QueryContext(ctx, "SELECT at, granted, by FROM consent_log WHERE profile_id=? AND at < ? ORDER BY id DESC LIMIT ?", id, end, limit)
	if err != nil {
		return nil, fmt.Errorf("read consents of profile %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		it := TimelineItem{Kind: KindConsent}
		var at int64
		var g bool
		if err := rows.Scan(&at, &g, &it.By); err != nil {
			return nil, fmt.Errorf("read consents of profile %d: %w", id, err)
		}
		it.At, it.Granted = timeOf(at), &g
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consents of profile %d: %w", id, err)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].At.After(out[b].At) })
	if len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []TimelineItem{}
	}
	return out, nil
}
