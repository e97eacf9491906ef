package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigie/vigie/internal/sqlite"
)

// Recent asks for at least Min mentions of a kind in the last Days days
// (0: ever).
type Recent struct {
	Min  int `json:"min"`
	Days int `json:"days,omitempty"`
}

// CRMState selects profiles by whether the brand's CRM knows them.
type CRMState string

// The CRM states a segment can ask for.
const (
	CRMAny     CRMState = ""
	CRMKnown   CRMState = "known"
	CRMUnknown CRMState = "unknown"
)

// Filter is a segment's definition: every set field must hold (AND). It is
// data, never code: each field becomes one fixed SQL condition.
type Filter struct {
	// MinInfluence keeps profiles whose influence is at least this.
	MinInfluence int `json:"min_influence,omitempty"`
	// Complaints and Praise count mentions the router classified so
	// ("influencers who complained twice this month": complaints {min: 2,
	// days: 30}; "praised us": praise {min: 1}).
	Complaints *Recent `json:"complaints,omitempty"`
	Praise     *Recent `json:"praise,omitempty"`
	// CRM is known, unknown, or empty for either.
	CRM CRMState `json:"crm,omitempty"`
	// Tags keeps profiles with a mention routed with any of these tags.
	Tags []string `json:"tags,omitempty"`
	// Sources keeps profiles with an identity on any of these networks.
	Sources []string `json:"sources,omitempty"`
	// Consent, when set, keeps profiles whose consent is (true) or is not
	// (false) granted.
	Consent *bool `json:"consent,omitempty"`
	// NewWithinDays keeps profiles first seen (their earliest identity's
	// first post, check-in or offer) in the last N days: the newcomers a
	// welcome campaign greets. 0 means any time.
	NewWithinDays int `json:"new_within_days,omitempty"`
}

// The bounds of a filter.
const (
	maxFilterList = 50
	maxRecentDays = 3650
)

// Validate checks the filter.
func (f *Filter) Validate() error {
	if f.MinInfluence < 0 || f.MinInfluence > 100 {
		return fmt.Errorf("%w: min_influence: 0 to 100", ErrInvalid)
	}
	for name, r := range map[string]*Recent{"complaints": f.Complaints, "praise": f.Praise} {
		if r != nil && (r.Min < 1 || r.Days < 0 || r.Days > maxRecentDays) {
			return fmt.Errorf("%w: %s: min at least 1, days 0 (ever) to %d", ErrInvalid, name, maxRecentDays)
		}
	}
	if f.NewWithinDays < 0 || f.NewWithinDays > maxRecentDays {
		return fmt.Errorf("%w: new_within_days: 0 (any time) to %d", ErrInvalid, maxRecentDays)
	}
	switch f.CRM {
	case CRMAny, CRMKnown, CRMUnknown:
	default:
		return fmt.Errorf("%w: crm %q: want known, unknown or nothing", ErrInvalid, f.CRM)
	}
	for name, l := range map[string][]string{"tags": f.Tags, "sources": f.Sources} {
		if len(l) > maxFilterList {
			return fmt.Errorf("%w: %s: at most %d", ErrInvalid, name, maxFilterList)
		}
		for _, v := range l {
			if v == "" || len(v) > 64 || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
				return fmt.Errorf("%w: %s: %q is not a name", ErrInvalid, name, v)
			}
		}
	}
	return nil
}

// where renders the filter as SQL conditions on profiles p.
func (f *Filter) where(now time.Time) (string, []any) {
	conds := []string{"1"}
	var args []any
	const mine = " FROM mentions m JOIN identities i ON i.source=m.source AND i.author_id=m.author_id WHERE i.profile_id=p.id"
	if f.MinInfluence > 0 {
		conds = append(conds, "(SELECT MAX(influence) FROM identities i WHERE i.profile_id=p.id) >= ?")
		args = append(args, f.MinInfluence)
	}
	for intent, r := range map[string]*Recent{"complaint": f.Complaints, "praise": f.Praise} {
		if r == nil {
			continue
		}
		since := int64(0)
		if r.Days > 0 {
			since = now.Add(-time.Duration(r.Days) * 24 * time.Hour).UnixNano()
		}
		conds = append(conds, "(SELECT COUNT(*)"+mine+" AND m.intent=? AND m.at>=?) >= ?")
		args = append(args, intent, since, r.Min)
	}
	switch f.CRM {
	case CRMKnown:
		conds = append(conds, "p.crm_id IS NOT NULL")
	case CRMUnknown:
		conds = append(conds, "p.crm_id IS NULL")
	}
	in := func(vals []string) string {
		for _, v := range vals {
			args = append(args, v)
		}
		return strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")
	}
	if len(f.Tags) > 0 {
		conds = append(conds, "EXISTS (SELECT 1"+mine+" AND EXISTS (SELECT 1 FROM json_each(m.tags) j WHERE j.value IN ("+in(f.Tags)+")))")
	}
	if len(f.Sources) > 0 {
		conds = append(conds, "EXISTS (SELECT 1 FROM identities i WHERE i.profile_id=p.id AND i.source IN ("+in(f.Sources)+"))")
	}
	if f.NewWithinDays > 0 {
		conds = append(conds, "(SELECT MIN(first_seen) FROM identities i WHERE i.profile_id=p.id) >= ?")
		args = append(args, now.Add(-time.Duration(f.NewWithinDays)*24*time.Hour).UnixNano())
	}
	if f.Consent != nil {
		if *f.Consent {
			conds = append(conds, "p.consent=1")
		} else {
			conds = append(conds, "p.consent=0")
		}
	}
	return strings.Join(conds, " AND "), args
}

// Segment is a saved filter over profiles.
type Segment struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Filter    Filter    `json:"filter"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func checkSegmentName(n string) error {
	if strings.TrimSpace(n) == "" || len(n) > 100 || !utf8.ValidString(n) || strings.IndexFunc(n, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: name: 1 to 100 bytes of printable UTF-8", ErrInvalid)
	}
	return nil
}

// SaveSegment creates a segment (id 0) or replaces one.
func (c *CRM) SaveSegment(ctx context.Context, s Segment, actor string) (Segment, error) {
	s.Name = strings.TrimSpace(s.Name)
	if err := checkSegmentName(s.Name); err != nil {
		return Segment{}, err
	}
	if err := s.Filter.Validate(); err != nil {
		return Segment{}, err
	}
	enc, _ := json.Marshal(&s.Filter)
	now := c.cfg.Now().UTC()
	err := c.write(ctx, func(tx *sqlite.Tx) error {
		var other int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM segments WHERE name=?", s.Name).Scan(&other)
		if err == nil && other != s.ID {
			return fmt.Errorf("%w: segment %d is already named %q", ErrConflict, other, s.Name)
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("look up segment name: %w", err)
		}
		if s.ID == 0 {
			res, err := tx.ExecContext(ctx, "INSERT INTO segments(name, filter, created_by, created_at, updated_at) VALUES(?,?,?,?,?)", s.Name, enc, actor, now.UnixNano(), now.UnixNano())
			if err != nil {
				return fmt.Errorf("save segment: %w", err)
			}
			s.ID, _ = res.LastInsertId()
			return nil
		}
		res, err := tx.ExecContext(ctx, "UPDATE segments SET name=?, filter=?, updated_at=? WHERE id=?", s.Name, enc, now.UnixNano(), s.ID)
		if err != nil {
			return fmt.Errorf("save segment %d: %w", s.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("segment %d: %w", s.ID, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return Segment{}, err
	}
	return c.Segment(ctx, s.ID)
}

// DeleteSegment deletes a segment.
func (c *CRM) DeleteSegment(ctx context.Context, id int64) error {
	return c.write(ctx, func(tx *sqlite.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM segments WHERE id=?", id)
		if err != nil {
			return fmt.Errorf("delete segment %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("segment %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

func scanSegment(s interface{ Scan(...any) error }) (Segment, error) {
	var seg Segment
	var filter []byte
	var created, updated int64
	if err := s.Scan(&seg.ID, &seg.Name, &filter, &seg.CreatedBy, &created, &updated); err != nil {
		return Segment{}, err
	}
	seg.CreatedAt, seg.UpdatedAt = timeOf(created), timeOf(updated)
	if err := json.Unmarshal(filter, &seg.Filter); err != nil {
		return Segment{}, fmt.Errorf("decode filter of segment %d: %w", seg.ID, err)
	}
	return seg, nil
}

// Segment returns one segment.
func (c *CRM) Segment(ctx context.Context, id int64) (Segment, error) {
	s, err := scanSegment(c.db.R.QueryRowContext(ctx, "SELECT id, name, filter, created_by, created_at, updated_at FROM segments WHERE id=?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Segment{}, fmt.Errorf("segment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Segment{}, fmt.Errorf("read segment %d: %w", id, err)
	}
	return s, nil
}

// Segments lists the segments by name.
func (c *CRM) Segments(ctx context.Context) ([]Segment, error) {
	rows, err := c.db.R.QueryContext(ctx, "SELECT id, name, filter, created_by, created_at, updated_at FROM segments ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	defer rows.Close()
	out := []Segment{}
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("list segments: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Count counts a filter's profiles now.
func (c *CRM) Count(ctx context.Context, f Filter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	where, args := f.where(c.cfg.Now())
	var n int
	if err := c.db.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM profiles p WHERE "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	return n, nil
}

// Members lists a filter's profiles, newest first, by keyset pagination.
func (c *CRM) Members(ctx context.Context, f Filter, limit int, cursor string) (ProfilePage, error) {
	if err := f.Validate(); err != nil {
		return ProfilePage{}, err
	}
	limit, err := checkLimit(limit)
	if err != nil {
		return ProfilePage{}, err
	}
	where, args := f.where(c.cfg.Now())
	if cursor != "" {
		before, err := decodeCursor(cursor)
		if err != nil {
			return ProfilePage{}, err
		}
		where, args = where+" AND p.id<?", append(args, before)
	}
	ids, err := c.ids(ctx, "SELECT p.id FROM profiles p WHERE "+where+" ORDER BY p.id DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return ProfilePage{}, fmt.Errorf("list segment members: %w", err)
	}
	page := ProfilePage{Profiles: []Profile{}}
	if len(ids) > limit {
		ids = ids[:limit]
		page.NextCursor = encodeCursor(ids[limit-1])
	}
	for _, id := range ids {
		p, err := loadProfile(ctx, c.db.R, id, false)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return ProfilePage{}, err
		}
		page.Profiles = append(page.Profiles, p)
	}
	return page, nil
}

// eachMember calls fn for every profile of a filter, oldest first.
func (c *CRM) eachMember(ctx context.Context, f Filter, fn func(p *Profile) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	where, args := f.where(c.cfg.Now())
	ids, err := c.ids(ctx, "SELECT p.id FROM profiles p WHERE "+where+" ORDER BY p.id", args...)
	if err != nil {
		return fmt.Errorf("list segment members: %w", err)
	}
	for _, id := range ids {
		p, err := loadProfile(ctx, c.db.R, id, false)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
	}
	return nil
}
