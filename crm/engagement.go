package crm

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// EngagementBucket is the engagement of one time bucket and key (a network
// with by source, "" otherwise).
//
// Interactions counts inbound mentions created in the bucket that answer
// one of the brand's posts: a reply of the desk delivered on the network
// (an agent's, an automatic one, a survey), or a campaign message. It is
// what Vigie sees of engagement: likes and boosts do not reach it.
//
// BrandFollowers is the brand account's follower count on the bucket's
// networks (Config.BrandFollowers; with no key, summed over the networks
// that have one), and InteractionRate is the interactions on those
// networks divided by it; both null when no follower count is known.
//
// NewProspects counts the profiles unknown to the brand's CRM (no CRM id
// now) first seen in the bucket: the earliest first post, check-in or offer
// of any of their identities; with by source, keyed by that identity's
// network.
type EngagementBucket struct {
	Start           time.Time `json:"start"`
	Key             string    `json:"key"`
	Interactions    int64     `json:"interactions"`
	BrandFollowers  *int64    `json:"brand_followers"`
	InteractionRate *float64  `json:"interaction_rate"`
	NewProspects    int64     `json:"new_prospects"`
}

// Engagement is the engagement KPIs over [from, to), in buckets of
// interval starting at from, by network when bySource. Only non-empty
// buckets are returned, ordered by start then key. The caller bounds the
// number of buckets (the KPI endpoint's query validation).
func (c *CRM) Engagement(ctx context.Context, from, to time.Time, interval time.Duration, bySource bool) ([]EngagementBucket, error) {
	if !to.After(from) || interval <= 0 {
		return nil, fmt.Errorf("%w: engagement needs from before to and a positive interval", ErrInvalid)
	}
	type key struct {
		index int64
		k     string
	}
	buckets := map[key]*EngagementBucket{}
	bucket := func(i int64, k string) *EngagementBucket {
		b := buckets[key{i, k}]
		if b == nil {
			b = &EngagementBucket{Start: from.Add(time.Duration(i) * interval).UTC(), Key: k}
			buckets[key{i, k}] = b
		}
		return b
	}
	f, t, step := from.UnixNano(), to.UnixNano(), int64(interval)
	// Interactions per network, so that the rate only counts the networks
	// with a known follower count.
	withRate := map[key]int64{}
	rows, err := c.db.R.QueryContext(ctx, `SELECT (m.at - ?) / ?, m.source, COUNT(*) FROM mentions m
		WHERE m.at >= ? AND m.at < ? AND m.reply_to != '' AND (
			EXISTS (SELECT 1 FROM brand_posts b WHERE b.source=m.source AND b.id=m.reply_to)
			OR EXISTS (SELECT 1 FROM campaign_recipients r WHERE r.source=m.source AND r.external_id=m.reply_to AND r.external_id != ''))
		GROUP BY 1, 2`, f, step, f, t)
	if err != nil {
		return nil, fmt.Errorf("count interactions: %w", err)
	}
	for rows.Next() {
		var i, n int64
		var src string
		if err := rows.Scan(&i, &src, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count interactions: %w", err)
		}
		k := ""
		if bySource {
			k = src
		}
		bucket(i, k).Interactions += n
		if _, ok := c.cfg.BrandFollowers[src]; ok {
			withRate[key{i, k}] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count interactions: %w", err)
	}
	// A profile's first sighting is its earliest identity's (ties by
	// network name, then author id, so that by source is deterministic).
	rows, err = c.db.R.QueryContext(ctx, `SELECT (first - ?) / ?, source, COUNT(*) FROM (
			SELECT p.id, (SELECT i.first_seen FROM identities i WHERE i.profile_id=p.id ORDER BY i.first_seen, i.source, i.author_id LIMIT 1) AS first,
				(SELECT i.source FROM identities i WHERE i.profile_id=p.id ORDER BY i.first_seen, i.source, i.author_id LIMIT 1) AS source
			FROM profiles p WHERE p.crm_id IS NULL)
		WHERE first >= ? AND first < ? GROUP BY 1, 2`, f, step, f, t)
	if err != nil {
		return nil, fmt.Errorf("count new prospects: %w", err)
	}
	for rows.Next() {
		var i, n int64
		var src string
		if err := rows.Scan(&i, &src, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count new prospects: %w", err)
		}
		k := ""
		if bySource {
			k = src
		}
		bucket(i, k).NewProspects += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count new prospects: %w", err)
	}
	// The followers of the networks behind each bucket's rate.
	var total int64
	for _, n := range c.cfg.BrandFollowers {
		total += n
	}
	out := make([]EngagementBucket, 0, len(buckets))
	for k, b := range buckets {
		followers, known := total, len(c.cfg.BrandFollowers) > 0
		if bySource {
			followers, known = c.cfg.BrandFollowers[k.k]
		}
		if known {
			b.BrandFollowers = &followers
			if followers > 0 {
				r := float64(withRate[k]) / float64(followers)
				b.InteractionRate = &r
			}
		}
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}
