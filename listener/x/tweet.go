package x

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/source"
)

// metrics are a post's public metrics, tweet-era and post-era names.
type metrics struct {
	RetweetCount int64 `json:"retweet_count"`
	RepostCount  int64 `json:"repost_count"`
	ReplyCount   int64 `json:"reply_count"`
	LikeCount    int64 `json:"like_count"`
	QuoteCount   int64 `json:"quote_count"`
}

// tweet is the part of a Post object Vigie reads.
type tweet struct {
	ID                string   `json:"id"`
	Text              string   `json:"text"`
	AuthorID          string   `json:"author_id"`
	CreatedAt         string   `json:"created_at"`
	Lang              string   `json:"lang"`
	ConversationID    string   `json:"conversation_id"`
	InReplyToUserID   string   `json:"in_reply_to_user_id"`
	EditHistoryTweets []string `json:"edit_history_tweet_ids"`
	EditHistoryPosts  []string `json:"edit_history_post_ids"`
	PublicMetrics     metrics  `json:"public_metrics"`
	ReferencedTweets  []ref    `json:"referenced_tweets"`
	ReferencedPosts   []ref    `json:"referenced_posts"`
	Geo               *struct {
		PlaceID     string `json:"place_id"`
		Coordinates *struct {
			Type        string    `json:"type"`
			Coordinates []float64 `json:"coordinates"` // [lon, lat]
		} `json:"coordinates"`
	} `json:"geo"`
}

type ref struct {
	Type string `json:"type"` // replied_to, quoted, retweeted
	ID   string `json:"id"`
}

type user struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	Name          string `json:"name"`
	Verified      bool   `json:"verified"`
	PublicMetrics struct {
		FollowersCount int64 `json:"followers_count"`
		FollowingCount int64 `json:"following_count"`
		TweetCount     int64 `json:"tweet_count"`
		PostCount      int64 `json:"post_count"`
	} `json:"public_metrics"`
}

type place struct {
	ID       string `json:"id"`
	FullName string `json:"full_name"`
	Geo      *struct {
		BBox []float64 `json:"bbox"` // [west, south, east, north]
	} `json:"geo"`
}

// apiError is one entry of an errors array (in-stream or in a response).
type apiError struct {
	Title          string `json:"title"`
	Detail         string `json:"detail"`
	Type           string `json:"type"`
	DisconnectType string `json:"disconnect_type"`
	Message        string `json:"message"`
}

// line is one message of the stream.
type line struct {
	Data     *tweet `json:"data"`
	Includes struct {
		Users  []user  `json:"users"`
		Places []place `json:"places"`
	} `json:"includes"`
	MatchingRules []struct {
		ID  string `json:"id"`
		Tag string `json:"tag"`
	} `json:"matching_rules"`
	Errors []apiError `json:"errors"`
}

// errOperationalDisconnect is X closing the stream on purpose (deploys,
// maintenance); reconnect at once.
var errOperationalDisconnect = errors.New("x: operational disconnect")

// parseLine reads one stream message. A message with errors and no data
// returns them as an error; operational-disconnect wraps
// errOperationalDisconnect.
func parseLine(b []byte) (*line, error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("decode stream message: %w", err)
	}
	if l.Data == nil {
		if len(l.Errors) == 0 {
			return nil, errors.New("decode stream message: neither data nor errors")
		}
		e := l.Errors[0]
		if e.Title == "operational-disconnect" || e.DisconnectType != "" {
			return nil, fmt.Errorf("%w: %s %s", errOperationalDisconnect, e.DisconnectType, e.Detail)
		}
		return nil, fmt.Errorf("x: stream error: %s: %s%s", e.Title, e.Detail, e.Message)
	}
	t := l.Data
	if t.ID == "" || t.AuthorID == "" {
		return nil, errors.New("decode stream message: post without id or author_id (check expansions)")
	}
	if _, err := time.Parse(time.RFC3339Nano, t.CreatedAt); err != nil {
		return nil, fmt.Errorf("decode stream message: post %s: created_at %q (check tweet.fields)", t.ID, t.CreatedAt)
	}
	return &l, nil
}

// stableID is the first id of the post's edit history: every version of an
// edited post shares it.
func (t *tweet) stableID() string {
	h := t.EditHistoryTweets
	if len(h) == 0 {
		h = t.EditHistoryPosts
	}
	if len(h) > 0 && h[0] != "" {
		return h[0]
	}
	return t.ID
}

// mention turns a stream message into a mention.
func (l *line) mention(sourceName string) listener.Mention {
	t := l.Data
	created, _ := time.Parse(time.RFC3339Nano, t.CreatedAt)
	m := listener.Mention{
		Source:       sourceName,
		ID:           t.stableID(),
		URL:          "https://x.com/i/web/status/" + t.ID,
		CreatedAt:    created.UTC(),
		Author:       listener.Author{ID: t.AuthorID},
		Text:         t.Text,
		Lang:         source.Lang(t.Lang),
		Conversation: t.ConversationID,
	}
	for _, u := range l.Includes.Users {
		if u.ID == t.AuthorID {
			m.Author.Handle = "@" + u.Username
			m.Author.Name = u.Name
			m.Author.Verified = u.Verified
			m.Author.Followers = u.PublicMetrics.FollowersCount
			m.Author.Following = u.PublicMetrics.FollowingCount
			m.Author.Posts = max(u.PublicMetrics.TweetCount, u.PublicMetrics.PostCount)
			m.URL = "https://x.com/" + u.Username + "/status/" + t.ID
			break
		}
	}
	for _, r := range append(t.ReferencedTweets, t.ReferencedPosts...) {
		if r.Type == "replied_to" {
			m.ReplyTo = r.ID
		}
	}
	pm := t.PublicMetrics
	if e := (listener.Engagement{Likes: pm.LikeCount, Reposts: max(pm.RetweetCount, pm.RepostCount), Replies: pm.ReplyCount}); e != (listener.Engagement{}) {
		m.Engagement = &e
	}
	m.Geo = l.geo()
	return m
}

// geo returns the post's exact point, or the centre of its tagged place's
// bounding box.
func (l *line) geo() *listener.Geo {
	g := l.Data.Geo
	if g == nil {
		return nil
	}
	if c := g.Coordinates; c != nil && len(c.Coordinates) == 2 {
		return validGeo(c.Coordinates[1], c.Coordinates[0])
	}
	for _, p := range l.Includes.Places {
		if p.ID == g.PlaceID && p.Geo != nil && len(p.Geo.BBox) == 4 {
			b := p.Geo.BBox
			return validGeo((b[1]+b[3])/2, (b[0]+b[2])/2)
		}
	}
	return nil
}

func validGeo(lat, lon float64) *listener.Geo {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return nil
	}
	return &listener.Geo{Lat: lat, Lon: lon}
}
