package crm

import (
	"context"
	"fmt"
	"slices"
	"sort"
)

// Reason says why an identity is suggested for a profile.
type Reason string

// The reasons to suggest a link.
const (
	// ReasonHandle: the same normalised handle on another network.
	ReasonHandle Reason = "handle"
	// ReasonName: the same full name (two words at least, accents and
	// case folded).
	ReasonName Reason = "name"
	// ReasonLink: a post of one links to the other's profile page.
	ReasonLink Reason = "profile_link"
)

// reasonWeight scores the evidence: a post linking to the other profile
// is the person saying so; a same handle across networks is strong; a
// same full name is weak (namesakes). Scores add up, capped at 1.
var reasonWeight = map[Reason]float64{ReasonLink: 0.8, ReasonHandle: 0.6, ReasonName: 0.3}

// Suggestion is an identity, in another profile, that may be the same
// person. It is only a suggestion: nothing is linked until a person says
// so (Link).
type Suggestion struct {
	Identity  Identity `json:"identity"`
	ProfileID int64    `json:"profile_id"`
	Reasons   []Reason `json:"reasons"`
	Score     float64  `json:"score"`
}

// maxSuggestions bounds the suggestions returned for a profile.
const maxSuggestions = 50

// Suggestions lists identities of other profiles that may be the same
// person as profile id, best first. It changes nothing.
func (c *CRM) Suggestions(ctx context.Context, id int64) ([]Suggestion, error) {
	if _, err := loadProfile(ctx, c.db.R, id, false); err != nil {
		return nil, err
	}
	queries := []struct {
		reason Reason
		q      string
	}{
		{ReasonHandle, `SELECT DISTINCT o.source, o.author_id FROM identities i JOIN identities o ON o.handle_key=i.handle_key
			WHERE i.profile_id=?1 AND i.handle_key!='' AND o.profile_id!=?1 AND o.source!=i.source`},
		{ReasonName, `SELECT DISTINCT o.source, o.author_id FROM identities i JOIN identities o ON o.name_key=i.name_key
			WHERE i.profile_id=?1 AND i.name_key!='' AND o.profile_id!=?1`},
		{ReasonLink, `SELECT o.source, o.author_id FROM identities i JOIN identity_links l ON l.source=i.source AND l.author_id=i.author_id
			JOIN identities o ON o.url_key=l.url_key WHERE i.profile_id=?1 AND o.profile_id!=?1
			UNION SELECT o.source, o.author_id FROM identities i JOIN identity_links l ON l.url_key=i.url_key
			JOIN identities o ON o.source=l.source AND o.author_id=l.author_id WHERE i.profile_id=?1 AND i.url_key!='' AND o.profile_id!=?1`},
	}
	type key struct{ source, authorID string }
	found := map[key]*Suggestion{}
	for _, q := range queries {
		rows, err := c.db.R.QueryContext(ctx, q.q+" LIMIT 200", id)
		if err != nil {
			return nil, fmt.Errorf("suggest by %s: %w", q.reason, err)
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.source, &k.authorID); err != nil {
				rows.Close()
				return nil, fmt.Errorf("suggest by %s: %w", q.reason, err)
			}
			s := found[k]
			if s == nil {
				s = &Suggestion{}
				found[k] = s
			}
			if !slices.Contains(s.Reasons, q.reason) {
				s.Reasons = append(s.Reasons, q.reason)
				s.Score = min(1, s.Score+reasonWeight[q.reason])
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("suggest by %s: %w", q.reason, err)
		}
	}
	out := make([]Suggestion, 0, len(found))
	for k, s := range found {
		row := c.db.R.QueryRowContext(ctx, "SELECT "+identityColumns+", profile_id FROM identities WHERE source=? AND author_id=?", k.source, k.authorID)
		i, profileID, err := scanIdentityWithProfile(row)
		if err != nil {
			continue // linked or erased meanwhile
		}
		s.Identity, s.ProfileID = i, profileID
		out = append(out, *s)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Score != out[b].Score {
			return out[a].Score > out[b].Score
		}
		if out[a].Identity.Source != out[b].Identity.Source {
			return out[a].Identity.Source < out[b].Identity.Source
		}
		return out[a].Identity.AuthorID < out[b].Identity.AuthorID
	})
	if len(out) > maxSuggestions {
		out = out[:maxSuggestions]
	}
	return out, nil
}

func scanIdentityWithProfile(s interface{ Scan(...any) error }) (Identity, int64, error) {
	var profileID int64
	i, err := scanIdentity(scanPlus{s, &profileID})
	return i, profileID, err
}

// scanPlus scans one more trailing column than its caller asks for.
type scanPlus struct {
	s     interface{ Scan(...any) error }
	extra any
}

func (p scanPlus) Scan(dest ...any) error { return p.s.Scan(append(dest, p.extra)...) }
