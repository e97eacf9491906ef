package crm

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/sqlite"
)

// SurveyOffer is the data of csat.offered. It carries no token: the link
// is a credential to answer, so it goes to the customer only
// (SurveyMessage), never to every agent's websocket.
type SurveyOffer struct {
	SurveyID  int64     `json:"survey_id"`
	TicketID  int64     `json:"ticket_id"`
	Queue     string    `json:"queue"`
	Agent     string    `json:"agent,omitempty"`
	Source    string    `json:"source"`
	AuthorID  string    `json:"author_id"`
	OfferedAt time.Time `json:"offered_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Rating is the data of csat.rated: a customer's answer, stored on the
// ticket's record.
type Rating struct {
	SurveyID int64  `json:"survey_id"`
	TicketID int64  `json:"ticket_id"`
	Queue    string `json:"queue"`
	Agent    string `json:"agent,omitempty"`
	Source   string `json:"source"`
	AuthorID string `json:"author_id"`
	// Rating is 1 (very unhappy) to 5 (very happy); 4 and 5 are positive.
	Rating  int       `json:"rating"`
	Comment string    `json:"comment,omitempty"`
	RatedAt time.Time `json:"rated_at"`
}

// SurveyMessage is what to send the customer for a survey: the queue's
// text with the link in it.
type SurveyMessage struct {
	SurveyID  int64     `json:"survey_id"`
	TicketID  int64     `json:"ticket_id"`
	Source    string    `json:"source"`
	AuthorID  string    `json:"author_id"`
	Text      string    `json:"text"`
	Link      string    `json:"link"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// A token is the survey id and its expiry (Unix seconds), 8 bytes each,
// followed by the first tokenMACBytes of their HMAC-SHA256: 128 bits are
// far beyond guessing, and keep links short.
const (
	tokenPayloadBytes = 16
	tokenMACBytes     = 16
)

func (c *CRM) tokenMAC(payload []byte) []byte {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte("vigie-csat\x00"))
	m.Write(payload)
	return m.Sum(nil)[:tokenMACBytes]
}

func (c *CRM) token(surveyID int64, expires time.Time) string {
	b := make([]byte, tokenPayloadBytes, tokenPayloadBytes+tokenMACBytes)
	binary.BigEndian.PutUint64(b[:8], uint64(surveyID))
	binary.BigEndian.PutUint64(b[8:], uint64(expires.Unix()))
	return base64.RawURLEncoding.EncodeToString(append(b, c.tokenMAC(b)...))
}

// parseToken checks a token's signature and returns its survey id and
// expiry.
func (c *CRM) parseToken(tok string) (int64, time.Time, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != tokenPayloadBytes+tokenMACBytes {
		return 0, time.Time{}, fmt.Errorf("%w: not a survey token", ErrUnauthorized)
	}
	if !hmac.Equal(b[tokenPayloadBytes:], c.tokenMAC(b[:tokenPayloadBytes])) {
		return 0, time.Time{}, fmt.Errorf("%w: not a survey token", ErrUnauthorized)
	}
	return int64(binary.BigEndian.Uint64(b[:8])), time.Unix(int64(binary.BigEndian.Uint64(b[8:])), 0), nil
}

// offerSurvey records a survey for a ticket just resolved, when its queue
// has a template, and queues csat.offered. A ticket gets one survey, on
// its first resolution. A resolution older than the survey's lifetime (a
// rebuild from an old log) offers none: it would be expired already.
func (a *applier) offerSurvey(t *desk.Ticket, at time.Time) error {
	c := a.c
	if _, ok := c.cfg.survey(t.Queue); !ok {
		return nil
	}
	if t.ResolvedAt != nil {
		at = *t.ResolvedAt
	}
	if c.cfg.Now().Sub(at) > c.cfg.SurveyTTL {
		return nil
	}
	expires := at.Add(c.cfg.SurveyTTL).Truncate(time.Second)
	res, err := a.exec("INSERT OR IGNORE INTO surveys(ticket_id, source, author_id, queue, agent, offered_at, expires_at, send_status) VALUES(?,?,?,?,?,?,?,'pending')",
		t.ID, t.Source, t.Author.ID, t.Queue, t.Assignee, at.UnixNano(), expires.UnixNano())
	if err != nil {
		return fmt.Errorf("record survey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // offered before
	}
	id, _ := res.LastInsertId()
	a.offered = true
	c.metrics.surveys.WithLabelValues("offered").Inc()
	return a.queue(EventCSATOffered, t.Source, t.Author.ID, SurveyOffer{SurveyID: id, TicketID: t.ID, Queue: t.Queue, Agent: t.Assignee,
		Source: t.Source, AuthorID: t.Author.ID, OfferedAt: at.UTC(), ExpiresAt: expires.UTC()})
}

// queue puts an event in the outbox, in the current transaction.
func (a *applier) queue(typ desk.EventType, source, authorID string, data any) error {
	if err := queueEvent(a.ctx, a.tx, typ, source, authorID, data); err != nil {
		return err
	}
	a.queued = true
	return nil
}

func queueEvent(ctx context.Context, tx *sqlite.Tx, typ desk.EventType, source, authorID string, data any) error {
	return queueEventOn(ctx, tx, desk.TopicTickets, typ, source, authorID, data)
}

// queueEventOn puts an event for topic in the outbox, in tx.
func queueEventOn(ctx context.Context, tx *sqlite.Tx, topic desk.Topic, typ desk.EventType, source, authorID string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s: %w", typ, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO outbox(type, source, author_id, data, topic) VALUES(?,?,?,?,?)", string(typ), source, authorID, raw, string(topic)); err != nil {
		return fmt.Errorf("queue %s: %w", typ, err)
	}
	return nil
}

// SurveyMessage returns the message to send the customer for the survey
// of a ticket: the queue's text with the link.
func (c *CRM) SurveyMessage(ctx context.Context, ticketID int64) (SurveyMessage, error) {
	var m SurveyMessage
	var queue string
	var expires int64
	var rated sql.NullInt64
	err := c.db.R.QueryRowContext(ctx, "SELECT id, source, author_id, queue, expires_at, rated_at FROM surveys WHERE ticket_id=?", ticketID).
		Scan(&m.SurveyID, &m.Source, &m.AuthorID, &queue, &expires, &rated)
	if errors.Is(err, sql.ErrNoRows) {
		return SurveyMessage{}, fmt.Errorf("survey of ticket %d: %w", ticketID, ErrNotFound)
	}
	if err != nil {
		return SurveyMessage{}, fmt.Errorf("read survey of ticket %d: %w", ticketID, err)
	}
	tpl, ok := c.cfg.survey(queue)
	if !ok {
		return SurveyMessage{}, fmt.Errorf("survey template of queue %q: %w", queue, ErrNotFound)
	}
	m.TicketID, m.ExpiresAt = ticketID, timeOf(expires)
	m.Token = c.token(m.SurveyID, m.ExpiresAt)
	m.Link = strings.ReplaceAll(tpl.URL, "{token}", m.Token)
	m.Text = strings.ReplaceAll(tpl.Text, "{link}", m.Link)
	return m, nil
}

// maxComment bounds a CSAT comment.
const maxComment = 2000

// RatingRequest is a customer's answer to a survey.
type RatingRequest struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment,omitempty"`
}

// Rate takes a customer's answer to the survey a token names: the token
// must be one Vigie signed (ErrUnauthorized), not expired nor used
// (ErrGone). The rating is stored on the ticket's record and csat.rated is
// queued for the desk.
func (c *CRM) Rate(ctx context.Context, token string, req RatingRequest) (Rating, error) {
	id, expires, err := c.parseToken(token)
	if err != nil {
		c.metrics.surveys.WithLabelValues("bad_token").Inc()
		return Rating{}, err
	}
	now := c.cfg.Now().UTC()
	if !now.Before(expires) {
		c.metrics.surveys.WithLabelValues("expired").Inc()
		return Rating{}, fmt.Errorf("%w: the survey expired at %s", ErrGone, expires.UTC().Format(time.RFC3339))
	}
	if req.Rating < 1 || req.Rating > 5 {
		return Rating{}, fmt.Errorf("%w: rating: an integer from 1 to 5", ErrInvalid)
	}
	req.Comment = strings.TrimSpace(req.Comment)
	if len(req.Comment) > maxComment || !utf8.ValidString(req.Comment) {
		return Rating{}, fmt.Errorf("%w: comment: up to %d bytes of UTF-8", ErrInvalid, maxComment)
	}
	r := Rating{SurveyID: id, Rating: req.Rating, Comment: req.Comment, RatedAt: now}
	err = c.write(ctx, func(tx *sqlite.Tx) error {
		var rated sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT ticket_id, queue, agent, source, author_id, rated_at FROM surveys WHERE id=?", id).
			Scan(&r.TicketID, &r.Queue, &r.Agent, &r.Source, &r.AuthorID, &rated)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: the survey no longer exists", ErrGone)
		}
		if err != nil {
			return fmt.Errorf("read survey: %w", err)
		}
		if rated.Valid {
			c.metrics.surveys.WithLabelValues("used").Inc()
			return fmt.Errorf("%w: the survey was answered already", ErrGone)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE surveys SET rating=?, comment=?, rated_at=? WHERE id=?", r.Rating, r.Comment, now.UnixNano(), id); err != nil {
			return fmt.Errorf("save rating: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE tickets SET rating=?, comment=?, rated_at=? WHERE id=?", r.Rating, r.Comment, now.UnixNano(), r.TicketID); err != nil {
			return fmt.Errorf("save rating on the ticket: %w", err)
		}
		return queueEvent(ctx, tx, EventCSATRated, r.Source, r.AuthorID, r)
	})
	if err != nil {
		return Rating{}, err
	}
	c.metrics.surveys.WithLabelValues("rated").Inc()
	wake(c.wakePublish)
	return r, nil
}

// CSATBucket is the satisfaction of one queue or agent.
type CSATBucket struct {
	Key string `json:"key"`
	// Offered counts surveys offered in the range; Responses those
	// answered; Positive the ratings of 4 or 5.
	Offered   int `json:"offered"`
	Responses int `json:"responses"`
	Positive  int `json:"positive"`
	// Score is Positive / Responses, ResponseRate Responses / Offered,
	// Average the mean rating; null when undefined.
	Score        *float64 `json:"score"`
	ResponseRate *float64 `json:"response_rate"`
	Average      *float64 `json:"average"`
}

// CSATReport is the CSAT KPIs over a range of survey offers.
type CSATReport struct {
	From    time.Time    `json:"from"`
	To      time.Time    `json:"to"`
	By      string       `json:"by"`
	Total   CSATBucket   `json:"total"`
	Buckets []CSATBucket `json:"buckets"`
}

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	v := float64(n) / float64(d)
	return &v
}

// CSAT returns the CSAT score and response rate of the surveys offered in
// [from, to), by "queue" (default) or "agent" (the ticket's assignee at
// resolution; "" for none).
func (c *CRM) CSAT(ctx context.Context, from, to time.Time, by string) (CSATReport, error) {
	col := map[string]string{"": "queue", "queue": "queue", "agent": "agent"}[by]
	if col == "" {
		return CSATReport{}, fmt.Errorf("%w: by %q: want queue or agent", ErrInvalid, by)
	}
	if !to.After(from) {
		return CSATReport{}, fmt.Errorf("%w: to must be after from", ErrInvalid)
	}
	rows, err := c.db.R.QueryContext(ctx, `SELECT `+col+`, COUNT(*), COUNT(rating), COALESCE(SUM(rating>=4),0), COALESCE(SUM(rating),0)
		FROM surveys WHERE offered_at>=? AND offered_at<? GROUP BY 1 ORDER BY 1`, from.UnixNano(), to.UnixNano())
	if err != nil {
		return CSATReport{}, fmt.Errorf("csat: %w", err)
	}
	defer rows.Close()
	rep := CSATReport{From: from.UTC(), To: to.UTC(), By: col, Buckets: []CSATBucket{}}
	sumAll := 0
	fill := func(b *CSATBucket, sum int) {
		b.Score, b.ResponseRate = ratio(b.Positive, b.Responses), ratio(b.Responses, b.Offered)
		if b.Responses > 0 {
			avg := float64(sum) / float64(b.Responses)
			b.Average = &avg
		}
	}
	for rows.Next() {
		var b CSATBucket
		var sum int
		if err := rows.Scan(&b.Key, &b.Offered, &b.Responses, &b.Positive, &sum); err != nil {
			return CSATReport{}, fmt.Errorf("csat: %w", err)
		}
		fill(&b, sum)
		rep.Total.Offered += b.Offered
		rep.Total.Responses += b.Responses
		rep.Total.Positive += b.Positive
		sumAll += sum
		rep.Buckets = append(rep.Buckets, b)
	}
	if err := rows.Err(); err != nil {
		return CSATReport{}, fmt.Errorf("csat: %w", err)
	}
	rep.Total.Key = "all"
	fill(&rep.Total, sumAll)
	return rep, nil
}

// runPublish publishes the queued events in order, retrying with back-off
// while the desk refuses them.
func (c *CRM) runPublish(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		n, err := c.publishSome(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			c.metrics.publishErrs.Inc()
			c.log.Error("publish_failed", "error", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if n > 0 {
			continue
		}
		select {
		case <-c.wakePublish:
		case <-ctx.Done():
			return
		}
	}
}

// publishSome publishes up to 100 queued events and returns how many.
func (c *CRM) publishSome(ctx context.Context) (int, error) {
	rows, err := c.db.R.QueryContext(ctx, "SELECT id, type, source, author_id, data, topic FROM outbox ORDER BY id LIMIT 100")
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	type row struct {
		id               int64
		typ, topic       string
		source, authorID string
		data             []byte
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.typ, &r.source, &r.authorID, &r.data, &r.topic); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read outbox: %w", err)
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	for _, r := range batch {
		if _, err := c.pub.PublishFor(ctx, desk.EventType(r.typ), desk.Topic(r.topic), r.source, r.authorID, json.RawMessage(r.data)); err != nil {
			return 0, fmt.Errorf("publish %s: %w", r.typ, err)
		}
		if _, err := c.db.Exec(ctx, "DELETE FROM outbox WHERE id=?", r.id); err != nil {
			return 0, fmt.Errorf("dequeue %s: %w", r.typ, err)
		}
	}
	return len(batch), nil
}
