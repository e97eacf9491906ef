package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/crm"
	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener"
)

// erasure answers DELETE /api/v1/authors/{source}/{author_id}: everything
// of this person, everywhere.
//
// The request becomes an account tombstone in the intake log, so it is
// applied in order with everything the person posted before it: the log
// deletes their raw items in the same transaction; the desk removes their
// messages and redacts the events that carried them; the sinks (search,
// archive, alerts, offers) follow the mention.deleted event. The answer
// waits until the desk has applied it, then every SQLite file is
// checkpointed so that no deleted bytes stay in a WAL.
func (s *server) erasure(c echo.Context) error {
	source, authorID := c.Param("source"), c.Param("author_id")
	if !validSource(source) || authorID == "" || len(authorID) > listener.MaxIDBytes {
		return fmt.Errorf("%w: source and author id required", desk.ErrInvalid)
	}
	ctx := c.Request().Context()
	now := time.Now().UTC()
	res, err := s.intake.Append(ctx, []listener.Item{listener.TombstoneItem(listener.Tombstone{Source: source, AuthorID: authorID, Reason: "erasure", At: now})}, now)
	if err != nil {
		return fmt.Errorf("record erasure: %w", err)
	}
	seq := res[0].Seq
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !pollUntil(wctx, func() bool { cur, err := s.desk.Cursor(wctx); return err == nil && cur >= seq }) {
		return c.JSON(http.StatusAccepted, map[string]any{"status": "in progress", "intake_seq": seq})
	}
	if err := errors.Join(s.intake.Checkpoint(ctx), s.desk.Checkpoint(ctx)); err != nil {
		return err
	}
	// The search index has removed the person's documents once it has
	// followed the desk's log past the deletion; then its files are merged
	// so that no old segment keeps their text.
	head := s.desk.LastSeq()
	if !pollUntil(wctx, func() bool { cur, err := s.search.Cursor(); return err == nil && cur >= head }) {
		return c.JSON(http.StatusAccepted, map[string]any{"status": "in progress", "intake_seq": seq})
	}
	if err := s.search.Compact(wctx); err != nil {
		return err
	}
	// The offer engine reads the tombstone from the intake log itself.
	if !pollUntil(wctx, func() bool { return s.offer.CaughtUp(seq) }) {
		return c.JSON(http.StatusAccepted, map[string]any{"status": "in progress", "intake_seq": seq})
	}
	// The CRM forgets the person once it has followed the desk's log past
	// the deletion.
	if !pollUntil(wctx, func() bool { return s.crm.Cursor() >= head }) {
		return c.JSON(http.StatusAccepted, map[string]any{"status": "in progress", "intake_seq": seq})
	}
	checkpoints := []interface{ Checkpoint(context.Context) error }{s.offer, s.watch, s.crm}
	if emb, ok := s.archive.(interface{ Checkpoint(context.Context) error }); ok {
		checkpoints = append(checkpoints, emb)
	}
	for _, cp := range checkpoints {
		if err := cp.Checkpoint(ctx); err != nil {
			return err
		}
	}
	if _, err := s.desk.Publish(ctx, "author.erased", desk.TopicAdmin, map[string]string{"source": source, "author_id": authorID, "by": userOf(ctx)}); err != nil {
		return err
	}
	s.log.Info("author_erased", "source", source, "by", userOf(ctx))
	return c.JSON(http.StatusOK, map[string]any{"status": "erased", "intake_seq": seq})
}

// pollUntil checks done every 10 ms until it holds (true) or ctx ends
// (false): how an erasure or an export waits for a store to catch up.
func pollUntil(ctx context.Context, done func() bool) bool {
	for !done() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}

func validSource(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// export answers GET /api/v1/authors/{source}/{author_id}/export: everything
// Vigie holds about one person (an access request), as one JSON document:
// the posts and check-ins received, the tickets with their conversations,
// the offers consent and the offers decided.
func (s *server) export(c echo.Context) error {
	source, authorID := c.Param("source"), c.Param("author_id")
	if !validSource(source) || authorID == "" || len(authorID) > listener.MaxIDBytes {
		return fmt.Errorf("%w: source and author id required", desk.ErrInvalid)
	}
	ctx := c.Request().Context()
	items, err := s.intake.ByAuthor(ctx, source, authorID)
	if err != nil {
		return err
	}
	received := make([]listener.Item, len(items))
	for i, r := range items {
		received[i] = r.Item
	}
	var tickets []desk.Ticket
	for cursor := ""; ; {
		page, err := s.desk.Tickets(ctx, desk.Filter{Author: source + "/" + authorID, Limit: 500, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, t := range page.Tickets {
			full, err := s.desk.Ticket(ctx, t.ID)
			if err != nil {
				return err
			}
			tickets = append(tickets, full)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	offers, err := s.offer.Profile(ctx, source, authorID)
	if err != nil {
		return err
	}
	customer, err := s.exportCustomer(ctx, source, authorID)
	if err != nil {
		return err
	}
	s.log.Info("author_exported", "source", source, "by", userOf(ctx))
	if _, err := s.desk.Publish(ctx, "author.exported", desk.TopicAdmin, map[string]string{"source": source, "author_id": authorID, "by": userOf(ctx)}); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="vigie-%s-%s.json"`, source, sanitizeFileName(authorID)))
	return c.JSON(http.StatusOK, map[string]any{
		"source": source, "author_id": authorID, "exported_at": time.Now().UTC(),
		"received": received, "tickets": tickets, "offers": offers, "customer": customer,
	})
}

// customerExport is what the CRM holds about a person: their profile (the
// identities an agent linked, the CRM id, consented fields, satisfaction)
// and its whole timeline. Profile is nil when the CRM never saw them.
type customerExport struct {
	Profile  *crm.Profile       `json:"profile"`
	Timeline []crm.TimelineItem `json:"timeline"`
}

// exportCustomer reads the person's CRM profile and timeline, once the CRM
// has followed the desk's log to where it was when asked (at most a few
// seconds), so that the export holds what the desk already knows.
func (s *server) exportCustomer(ctx context.Context, source, authorID string) (customerExport, error) {
	head := s.desk.LastSeq()
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pollUntil(wait, func() bool { return s.crm.Cursor() >= head })
	var out customerExport
	p, err := s.crm.ProfileByIdentity(ctx, source, authorID)
	if errors.Is(err, crm.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	out.Profile = &p
	// Newest first, a page at a time. Items at the page boundary's instant
	// are read again with the next page and kept once.
	type key struct {
		kind     crm.ItemKind
		source   string
		id       string
		ticketID int64
		at       int64
	}
	seen := map[key]bool{}
	var before time.Time
	for {
		page, err := s.crm.Timeline(ctx, p.ID, before, 500)
		if err != nil {
			return out, err
		}
		fresh := 0
		for _, it := range page {
			k := key{it.Kind, it.Source, it.ID, it.TicketID, it.At.UnixNano()}
			if seen[k] {
				continue
			}
			seen[k], fresh = true, fresh+1
			out.Timeline = append(out.Timeline, it)
		}
		if len(page) < 500 || fresh == 0 {
			return out, nil
		}
		before = page[len(page)-1].At.Add(time.Nanosecond)
	}
}

func sanitizeFileName(s string) string {
	out := []rune{}
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			out = append(out, r)
		}
	}
	if len(out) > 64 {
		out = out[:64]
	}
	return string(out)
}
