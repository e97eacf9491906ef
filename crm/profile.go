package crm

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigie/vigie/internal/sqlite"
)

// Identity is one account of a person on one network.
type Identity struct {
	Source    string `json:"source"`
	AuthorID  string `json:"author_id"`
	Handle    string `json:"handle,omitempty"`
	Name      string `json:"name,omitempty"`
	URL       string `json:"url,omitempty"`
	Followers int64  `json:"followers"`
	// Influence is the router's 0–100 score from the latest mention.
	Influence int `json:"influence"`
	// LinkedBy and LinkedAt say who put the identity in its profile (empty
	// for an identity in the profile it started in).
	LinkedBy  string     `json:"linked_by,omitempty"`
	LinkedAt  *time.Time `json:"linked_at,omitempty"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
}

// Consent is whether the person agreed to share their personal fields
// (city, interests) with the brand, and its proof.
type Consent struct {
	Granted bool       `json:"granted"`
	At      *time.Time `json:"at,omitempty"`
	By      string     `json:"by,omitempty"`
	Proof   string     `json:"proof,omitempty"`
}

// SentimentDay is a day's average sentiment of a person's mentions.
type SentimentDay struct {
	Day      string  `json:"day"` // YYYY-MM-DD, UTC
	Average  float64 `json:"average"`
	Mentions int     `json:"mentions"`
}

// Satisfaction sums a person's CSAT answers up.
type Satisfaction struct {
	Responses int `json:"responses"`
	// Positive counts ratings of 4 or 5.
	Positive int `json:"positive"`
	// Score is Positive / Responses; Average the mean rating. Both are
	// null without answers.
	Score   *float64 `json:"score"`
	Average *float64 `json:"average"`
}

// Profile is one person across networks.
type Profile struct {
	ID int64 `json:"id"`
	// CRMID is the brand's customer id ("" when unknown to the CRM).
	CRMID      string     `json:"crm_id"`
	Identities []Identity `json:"identities"`
	Consent    Consent    `json:"consent"`
	// City and Interests are set only with consent, and wiped when it is
	// withdrawn.
	City      string   `json:"city,omitempty"`
	Interests []string `json:"interests"`
	// Influence is the highest of the identities'.
	Influence  int      `json:"influence"`
	Mentions   int      `json:"mentions"`
	Complaints int      `json:"complaints"`
	Praise     int      `json:"praise"`
	Tickets    int      `json:"tickets"`
	Tags       []string `json:"tags"`
	// Sentiment is the daily history, newest first (the last 365 days with
	// mentions); filled when one profile is read.
	Sentiment    []SentimentDay `json:"sentiment,omitempty"`
	Satisfaction Satisfaction   `json:"satisfaction"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func timeOf(n int64) time.Time { return time.Unix(0, n).UTC() }

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := timeOf(n.Int64)
	return &t
}

// loadProfile reads a profile; full adds the sentiment history.
func loadProfile(ctx context.Context, q querier, id int64, full bool) (Profile, error) {
	p := Profile{ID: id}
	var crmID sql.NullString
	var consent int
	var consentAt sql.NullInt64
	var interests string
	var created, updated int64
	err := q.QueryRowContext(ctx, "SELECT crm_id, consent, consent_at, consent_by, consent_proof, city, interests, created_at, updated_at FROM profiles WHERE id=?", id).
		Scan(&crmID, &consent, &consentAt, &p.Consent.By, &p.Consent.Proof, &p.City, &interests, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, fmt.Errorf("profile %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Profile{}, fmt.Errorf("read profile %d: %w", id, err)
	}
	p.CRMID, p.Consent.Granted, p.Consent.At = crmID.String, consent == 1, timePtr(consentAt)
	p.CreatedAt, p.UpdatedAt = timeOf(created), timeOf(updated)
	if err := json.Unmarshal([]byte(interests), &p.Interests); err != nil {
		return Profile{}, fmt.Errorf("decode interests of profile %d: %w", id, err)
	}
	if p.Interests == nil {
		p.Interests = []string{}
	}
	if p.Identities, err = identitiesOf(ctx, q, id); err != nil {
		return Profile{}, err
	}
	for _, i := range p.Identities {
		p.Influence = max(p.Influence, i.Influence)
	}
	const byProfile = " JOIN identities i ON i.source=m.source AND i.author_id=m.author_id WHERE i.profile_id=?"
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(m.intent='complaint'),0), COALESCE(SUM(m.intent='praise'),0) FROM mentions m"+byProfile, id).
		Scan(&p.Mentions, &p.Complaints, &p.Praise); err != nil {
		return Profile{}, fmt.Errorf("count mentions of profile %d: %w", id, err)
	}
	var avg sql.NullFloat64
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(m.rating), COALESCE(SUM(m.rating>=4),0), AVG(m.rating) FROM tickets m"+byProfile, id).
		Scan(&p.Tickets, &p.Satisfaction.Responses, &p.Satisfaction.Positive, &avg); err != nil {
		return Profile{}, fmt.Errorf("count tickets of profile %d: %w", id, err)
	}
	if p.Satisfaction.Responses > 0 {
		score := float64(p.Satisfaction.Positive) / float64(p.Satisfaction.Responses)
		p.Satisfaction.Score, p.Satisfaction.Average = &score, &avg.Float64
	}
	p.Tags = []string{}
	rows, err := q.QueryContext(ctx, "SELECT DISTINCT j.value FROM mentions m JOIN identities i ON i.source=m.source AND i.author_id=m.author_id, json_each(m.tags) j WHERE i.profile_id=? ORDER BY 1", id)
	if err != nil {
		return Profile{}, fmt.Errorf("read tags of profile %d: %w", id, err)
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return Profile{}, fmt.Errorf("read tags of profile %d: %w", id, err)
		}
		p.Tags = append(p.Tags, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Profile{}, fmt.Errorf("read tags of profile %d: %w", id, err)
	}
	if full {
		if p.Sentiment, err = sentimentHistory(ctx, q, id); err != nil {
			return Profile{}, err
		}
	}
	return p, nil
}

const identityColumns = "source, author_id, handle, name, url, followers, influence, linked_by, linked_at, first_seen, last_seen"

func scanIdentity(s interface{ Scan(...any) error }) (Identity, error) {
	var i Identity
	var linked sql.NullInt64
	var first, last int64
	err := s.Scan(&i.Source, &i.AuthorID, &i.Handle, &i.Name, &i.URL, &i.Followers, &i.Influence, &i.LinkedBy, &linked, &first, &last)
	i.LinkedAt, i.FirstSeen, i.LastSeen = timePtr(linked), timeOf(first), timeOf(last)
	return i, err
}

func identitiesOf(ctx context.Context, q querier, id int64) ([]Identity, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+identityColumns+" FROM identities WHERE profile_id=? ORDER BY first_seen, source, author_id", id)
	if err != nil {
		return nil, fmt.Errorf("read identities of profile %d: %w", id, err)
	}
	defer rows.Close()
	out := []Identity{}
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("read identities of profile %d: %w", id, err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// maxSentimentDays bounds the sentiment history returned with a profile.
const maxSentimentDays = 365

func sentimentHistory(ctx context.Context, q querier, id int64) ([]SentimentDay, error) {
	const day = int64(24 * time.Hour)
	rows, err := q.QueryContext(ctx, `SELECT m.at / ? AS d, AVG(m.sentiment), COUNT(*) FROM mentions m
		JOIN identities i ON i.source=m.source AND i.author_id=m.author_id WHERE i.profile_id=? GROUP BY d ORDER BY d DESC LIMIT ?`, day, id, maxSentimentDays)
	if err != nil {
		return nil, fmt.Errorf("read sentiment of profile %d: %w", id, err)
	}
	defer rows.Close()
	out := []SentimentDay{}
	for rows.Next() {
		var d int64
		var s SentimentDay
		if err := rows.Scan(&d, &s.Average, &s.Mentions); err != nil {
			return nil, fmt.Errorf("read sentiment of profile %d: %w", id, err)
		}
		s.Day = timeOf(d * day).Format(time.DateOnly)
		out = append(out, s)
	}
	return out, rows.Err()
}

// Profile returns a profile with its identities and sentiment history.
func (c *CRM) Profile(ctx context.Context, id int64) (Profile, error) {
	return loadProfile(ctx, c.db.R, id, true)
}

// ProfileByIdentity returns the profile an identity belongs to: the
// console's entry point from a ticket's author.
func (c *CRM) ProfileByIdentity(ctx context.Context, source, authorID string) (Profile, error) {
	var id int64
	err := c.db.R.QueryRowContext(ctx, "SELECT profile_id FROM identities WHERE source=? AND author_id=?", source, authorID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, fmt.Errorf("identity %s/%s: %w", source, authorID, ErrNotFound)
	}
	if err != nil {
		return Profile{}, fmt.Errorf("look up identity: %w", err)
	}
	return c.Profile(ctx, id)
}

// ProfileFilter selects profiles. Zero fields select everything.
type ProfileFilter struct {
	// Q matches a handle or name (substring, case-insensitive) or an
	// author id (exactly).
	Q string
	// CRMID selects the profile linked to this CRM customer id.
	CRMID string
	// Limit is at most 500; 0 means 50.
	Limit int
	// Cursor continues a previous listing (its NextCursor).
	Cursor string
}

// ProfilePage is one page of profiles, newest first.
type ProfilePage struct {
	Profiles   []Profile `json:"profiles"`
	NextCursor string    `json:"next_cursor"`
}

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("p:" + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), "p:"); ok {
			if id, err := strconv.ParseInt(rest, 10, 64); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: cursor: not one this server gave", ErrInvalid)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func checkLimit(n int) (int, error) {
	if n == 0 {
		return 50, nil
	}
	if n < 1 || n > 500 {
		return 0, fmt.Errorf("%w: limit must be between 1 and 500", ErrInvalid)
	}
	return n, nil
}

// Profiles lists profiles, newest first, by keyset pagination.
func (c *CRM) Profiles(ctx context.Context, f ProfileFilter) (ProfilePage, error) {
	limit, err := checkLimit(f.Limit)
	if err != nil {
		return ProfilePage{}, err
	}
	var where []string
	var args []any
	if q := strings.TrimSpace(f.Q); q != "" {
		like := "%" + escapeLike(strings.ToLower(q)) + "%"
		where = append(where, `EXISTS (SELECT 1 FROM identities i WHERE i.profile_id=p.id AND
			(lower(i.handle) LIKE ? ESCAPE '\' OR lower(i.name) LIKE ? ESCAPE '\' OR i.author_id=?))`)
		args = append(args, like, like, q)
	}
	if f.CRMID != "" {
		where, args = append(where, "p.crm_id=?"), append(args, f.CRMID)
	}
	if f.Cursor != "" {
		before, err := decodeCursor(f.Cursor)
		if err != nil {
			return ProfilePage{}, err
		}
		where, args = append(where, "p.id<?"), append(args, before)
	}
	q := "SELECT p.id FROM profiles p"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	ids, err := c.ids(ctx, q+" ORDER BY p.id DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return ProfilePage{}, fmt.Errorf("list profiles: %w", err)
	}
	page := ProfilePage{Profiles: []Profile{}}
	if len(ids) > limit {
		ids = ids[:limit]
		page.NextCursor = encodeCursor(ids[limit-1])
	}
	for _, id := range ids {
		p, err := loadProfile(ctx, c.db.R, id, false)
		if errors.Is(err, ErrNotFound) {
			continue // linked away meanwhile
		}
		if err != nil {
			return ProfilePage{}, err
		}
		page.Profiles = append(page.Profiles, p)
	}
	return page, nil
}

func (c *CRM) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := c.db.R.QueryContext(ctx, q, args...)
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

// write runs fn in a write transaction, serialised with the follow loop.
func (c *CRM) write(ctx context.Context, fn func(tx *sqlite.Tx) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, err := c.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("crm: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("crm: commit: %w", err)
	}
	return nil
}

// deleteIfEmpty deletes a profile left without identity.
func deleteIfEmpty(ctx context.Context, tx *sqlite.Tx, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM identities WHERE profile_id=?", id).Scan(&n); err != nil {
		return fmt.Errorf("count identities of profile %d: %w", id, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM consent_log WHERE profile_id=?", id); err != nil {
		return fmt.Errorf("delete consents of profile %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM profiles WHERE id=?", id); err != nil {
		return fmt.Errorf("delete profile %d: %w", id, err)
	}
	return nil
}

type profileHead struct {
	crmID   sql.NullString
	consent bool
}

func head(ctx context.Context, tx *sqlite.Tx, id int64) (profileHead, error) {
	var h profileHead
	var consent int
	err := tx.QueryRowContext(ctx, "SELECT crm_id, consent FROM profiles WHERE id=?", id).Scan(&h.crmID, &consent)
	if errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("profile %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return h, fmt.Errorf("read profile %d: %w", id, err)
	}
	h.consent = consent == 1
	return h, nil
}

func checkIdentityRef(source, authorID string) error {
	if source == "" || len(source) > 32 || authorID == "" || len(authorID) > 512 {
		return fmt.Errorf("%w: source (up to 32 bytes) and author_id (up to 512 bytes) are required", ErrInvalid)
	}
	return nil
}

// Link moves an identity into profile id, on a person's decision. When the
// identity leaves a profile empty, that profile is merged in: its CRM id
// and consent come along when id has none (two different CRM ids are a
// conflict), then it is deleted.
func (c *CRM) Link(ctx context.Context, id int64, source, authorID, actor string) (Profile, error) {
	if err := checkIdentityRef(source, authorID); err != nil {
		return Profile{}, err
	}
	if actor == "" {
		return Profile{}, fmt.Errorf("%w: a link needs a person behind it", ErrInvalid)
	}
	err := c.write(ctx, func(tx *sqlite.Tx) error {
		to, err := head(ctx, tx, id)
		if err != nil {
			return err
		}
		var from int64
		err = tx.QueryRowContext(ctx, "SELECT profile_id FROM identities WHERE source=? AND author_id=?", source, authorID).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("identity %s/%s: %w", source, authorID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("look up identity: %w", err)
		}
		if from == id {
			return nil
		}
		var left int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM identities WHERE profile_id=?", from).Scan(&left); err != nil {
			return fmt.Errorf("count identities: %w", err)
		}
		now := c.cfg.Now().UnixNano()
		if left == 1 { // the old profile empties: merge what it holds
			old, err := head(ctx, tx, from)
			if err != nil {
				return err
			}
			if old.crmID.Valid && to.crmID.Valid && old.crmID.String != to.crmID.String {
				return fmt.Errorf("%w: profile %d holds CRM id %q and profile %d holds %q: unlink one first", ErrConflict, from, old.crmID.String, id, to.crmID.String)
			}
			if old.crmID.Valid && !to.crmID.Valid {
				if _, err := tx.ExecContext(ctx, "UPDATE profiles SET crm_id=NULL WHERE id=?", from); err != nil {
					return fmt.Errorf("move CRM id: %w", err)
				}
				if _, err := tx.ExecContext(ctx, "UPDATE profiles SET crm_id=? WHERE id=?", old.crmID.String, id); err != nil {
					return fmt.Errorf("move CRM id: %w", err)
				}
			}
			if old.consent && !to.consent {
				if _, err := tx.ExecContext(ctx, `UPDATE profiles SET (consent, consent_at, consent_by, consent_proof, city, interests) =
					(SELECT consent, consent_at, consent_by, consent_proof, city, interests FROM profiles WHERE id=?) WHERE id=?`, from, id); err != nil {
					return fmt.Errorf("move consent: %w", err)
				}
				if _, err := tx.ExecContext(ctx, "UPDATE consent_log SET profile_id=? WHERE profile_id=?", id, from); err != nil {
					return fmt.Errorf("move consent history: %w", err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE identities SET profile_id=?, linked_by=?, linked_at=? WHERE source=? AND author_id=?", id, actor, now, source, authorID); err != nil {
			return fmt.Errorf("link identity: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE profiles SET updated_at=? WHERE id IN (?,?)", now, id, from); err != nil {
			return fmt.Errorf("touch profiles: %w", err)
		}
		return deleteIfEmpty(ctx, tx, from)
	})
	if err != nil {
		return Profile{}, err
	}
	c.metrics.links.WithLabelValues("link").Inc()
	return c.Profile(ctx, id)
}

// Unlink takes an identity out of profile id into a new profile of its
// own, and returns profile id as it is left and the new profile's id. The
// CRM id and consent stay with profile id. A profile's last identity
// cannot be unlinked.
func (c *CRM) Unlink(ctx context.Context, id int64, source, authorID, actor string) (Profile, int64, error) {
	if err := checkIdentityRef(source, authorID); err != nil {
		return Profile{}, 0, err
	}
	if actor == "" {
		return Profile{}, 0, fmt.Errorf("%w: an unlink needs a person behind it", ErrInvalid)
	}
	var newID int64
	err := c.write(ctx, func(tx *sqlite.Tx) error {
		if _, err := head(ctx, tx, id); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM identities WHERE profile_id=? AND source=? AND author_id=?", id, source, authorID).Scan(&n); err != nil {
			return fmt.Errorf("look up identity: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("identity %s/%s in profile %d: %w", source, authorID, id, ErrNotFound)
		}
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM identities WHERE profile_id=?", id).Scan(&n); err != nil {
			return fmt.Errorf("count identities: %w", err)
		}
		if n == 1 {
			return fmt.Errorf("%w: %s/%s is the last identity of profile %d", ErrConflict, source, authorID, id)
		}
		now := c.cfg.Now().UnixNano()
		res, err := tx.ExecContext(ctx, "INSERT INTO profiles(created_at, updated_at) VALUES(?,?)", now, now)
		if err != nil {
			return fmt.Errorf("create profile: %w", err)
		}
		newID, _ = res.LastInsertId()
		if _, err := tx.ExecContext(ctx, "UPDATE identities SET profile_id=?, linked_by=?, linked_at=? WHERE source=? AND author_id=?", newID, actor, now, source, authorID); err != nil {
			return fmt.Errorf("unlink identity: %w", err)
		}
		_, err = tx.ExecContext(ctx, "UPDATE profiles SET updated_at=? WHERE id=?", now, id)
		return err
	})
	if err != nil {
		return Profile{}, 0, err
	}
	c.metrics.links.WithLabelValues("unlink").Inc()
	p, err := c.Profile(ctx, id)
	return p, newID, err
}

// maxCRMID bounds a CRM customer id.
const maxCRMID = 128

func checkCRMID(s string) error {
	if len(s) > maxCRMID || !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 || strings.TrimSpace(s) != s {
		return fmt.Errorf("%w: crm_id: up to %d bytes of printable UTF-8, without surrounding spaces", ErrInvalid, maxCRMID)
	}
	return nil
}

// setCRMID links profile id to a CRM customer id ("" removes the link).
func setCRMID(ctx context.Context, tx *sqlite.Tx, id int64, crmID string, now int64) (changed bool, err error) {
	h, err := head(ctx, tx, id)
	if err != nil {
		return false, err
	}
	if h.crmID.String == crmID && h.crmID.Valid == (crmID != "") {
		return false, nil
	}
	if crmID != "" {
		var other int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM profiles WHERE crm_id=?", crmID).Scan(&other)
		if err == nil {
			return false, fmt.Errorf("%w: CRM id %q belongs to profile %d (link the identities instead)", ErrConflict, crmID, other)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("look up CRM id: %w", err)
		}
	}
	var v any
	if crmID != "" {
		v = crmID
	}
	if _, err := tx.ExecContext(ctx, "UPDATE profiles SET crm_id=?, updated_at=? WHERE id=?", v, now, id); err != nil {
		return false, fmt.Errorf("set CRM id: %w", err)
	}
	return true, nil
}

// SetCRMID links profile id to the brand's CRM customer id; "" removes the
// link. A CRM id belongs to one profile at most.
func (c *CRM) SetCRMID(ctx context.Context, id int64, crmID string) (Profile, error) {
	if err := checkCRMID(crmID); err != nil {
		return Profile{}, err
	}
	err := c.write(ctx, func(tx *sqlite.Tx) error {
		_, err := setCRMID(ctx, tx, id, crmID, c.cfg.Now().UnixNano())
		return err
	})
	if err != nil {
		return Profile{}, err
	}
	c.metrics.links.WithLabelValues("crm_id").Inc()
	return c.Profile(ctx, id)
}

// ConsentRequest records what a person agreed to share.
type ConsentRequest struct {
	// Granted is required: true records consent with the fields, false
	// withdraws it and wipes them.
	Granted *bool `json:"granted"`
	// City and Interests are the fields shared; only with Granted true.
	City      string   `json:"city,omitempty"`
	Interests []string `json:"interests,omitempty"`
	// Proof says how consent was given (form submission id, message).
	Proof string `json:"proof,omitempty"`
}

// The bounds of the consented fields.
const (
	maxCity      = 100
	maxInterests = 20
	maxInterest  = 50
	maxProof     = 500
)

func checkField(name, v string, limit int) error {
	if len(v) > limit || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: %s: up to %d bytes of printable UTF-8", ErrInvalid, name, limit)
	}
	return nil
}

// SetConsent records a consent (with the personal fields shared) or its
// withdrawal (which wipes them), on actor's word, and logs it.
func (c *CRM) SetConsent(ctx context.Context, id int64, req ConsentRequest, actor string) (Profile, error) {
	if req.Granted == nil {
		return Profile{}, fmt.Errorf("%w: granted: required (true or false)", ErrInvalid)
	}
	if actor == "" {
		return Profile{}, fmt.Errorf("%w: a consent needs a person recording it", ErrInvalid)
	}
	if !*req.Granted && (req.City != "" || len(req.Interests) > 0) {
		return Profile{}, fmt.Errorf("%w: city and interests are kept only with consent (granted true)", ErrInvalid)
	}
	if err := errors.Join(checkField("city", req.City, maxCity), checkField("proof", req.Proof, maxProof)); err != nil {
		return Profile{}, err
	}
	if len(req.Interests) > maxInterests {
		return Profile{}, fmt.Errorf("%w: interests: at most %d", ErrInvalid, maxInterests)
	}
	interests := []string{}
	for _, in := range req.Interests {
		in = strings.TrimSpace(in)
		if err := checkField("interests", in, maxInterest); err != nil {
			return Profile{}, err
		}
		if in != "" {
			interests = append(interests, in)
		}
	}
	enc, _ := json.Marshal(interests)
	err := c.write(ctx, func(tx *sqlite.Tx) error {
		if _, err := head(ctx, tx, id); err != nil {
			return err
		}
		now := c.cfg.Now().UnixNano()
		granted := 0
		if *req.Granted {
			granted = 1
		}
		if _, err := tx.ExecContext(ctx, "UPDATE profiles SET consent=?, consent_at=?, consent_by=?, consent_proof=?, city=?, interests=?, updated_at=? WHERE id=?",
			granted, now, actor, req.Proof, strings.TrimSpace(req.City), enc, now, id); err != nil {
			return fmt.Errorf("save consent: %w", err)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO consent_log(profile_id, at, granted, proof, by) VALUES(?,?,?,?,?)", id, now, granted, req.Proof, actor)
		return err
	})
	if err != nil {
		return Profile{}, err
	}
	c.metrics.links.WithLabelValues("consent").Inc()
	return c.Profile(ctx, id)
}
