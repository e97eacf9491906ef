package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigie/vigie/listener"
)

// Networks names the sources items are filed under.
type Networks struct {
	// Facebook is the source of Page items (default "facebook").
	Facebook string
	// Instagram is the source of Instagram items (default "instagram").
	Instagram string
}

func (n Networks) withDefaults() Networks {
	if n.Facebook == "" {
		n.Facebook = "facebook"
	}
	if n.Instagram == "" {
		n.Instagram = "instagram"
	}
	return n
}

// InstagramMention is an Instagram "mentions" change: the account was
// @mentioned in a comment (CommentID set) or in a media's caption. Its text
// must be fetched from the Graph API.
type InstagramMention struct {
	// AccountID is the Instagram professional account mentioned (the
	// entry's id).
	AccountID string
	MediaID   string
	CommentID string
	// At is when Meta sent the change.
	At time.Time
}

// Parsed is what a delivery holds.
type Parsed struct {
	// Items are mentions and tombstones, in the delivery's order.
	Items []listener.Item
	// Mentions are Instagram mentions still to fetch.
	Mentions []InstagramMention
	// Skipped counts the changes that give no item, by reason.
	Skipped map[string]int
}

func (p *Parsed) skip(reason string) {
	if p.Skipped == nil {
		p.Skipped = map[string]int{}
	}
	p.Skipped[reason]++
}

// ErrPayload wraps every error of Parse: the body is not a Meta webhook
// payload.
var ErrPayload = errors.New("not a Meta webhook payload")

type envelope struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string            `json:"id"`
		Time      json.RawMessage   `json:"time"`
		Changes   []change          `json:"changes"`
		Messaging []json.RawMessage `json:"messaging"`
	} `json:"entry"`
}

type change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type from struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
}

type feedValue struct {
	Item        string          `json:"item"`
	Verb        string          `json:"verb"`
	PostID      string          `json:"post_id"`
	CommentID   string          `json:"comment_id"`
	ParentID    string          `json:"parent_id"`
	From        *from           `json:"from"`
	Message     string          `json:"message"`
	CreatedTime json.RawMessage `json:"created_time"`
}

type igComment struct {
	ID    string `json:"id"`
	From  *from  `json:"from"`
	Text  string `json:"text"`
	Media *struct {
		ID string `json:"id"`
	} `json:"media"`
	ParentID string `json:"parent_id"`
}

type igMention struct {
	MediaID   string `json:"media_id"`
	CommentID string `json:"comment_id"`
}

// Parse reads a webhook delivery's body (already authenticated). A body that
// is not a Meta envelope is an error wrapping ErrPayload; a change it cannot
// use is skipped and counted, so that one odd change does not make Meta
// deliver the whole batch again. now stamps tombstones.
func Parse(body []byte, names Networks, now time.Time) (Parsed, error) {
	names = names.withDefaults()
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return Parsed{}, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	if dec.More() {
		return Parsed{}, fmt.Errorf("%w: data after the JSON object", ErrPayload)
	}
	var p Parsed
	switch env.Object {
	case "page", "instagram":
	default:
		return Parsed{}, fmt.Errorf("%w: object %q (want page or instagram)", ErrPayload, env.Object)
	}
	for _, e := range env.Entry {
		entryTime := parseTime(e.Time)
		if entryTime.IsZero() {
			entryTime = now
		}
		for range e.Messaging {
			p.skip("messaging")
		}
		for _, c := range e.Changes {
			switch {
			case env.Object == "page" && c.Field == "feed":
				p.feed(c.Value, names.Facebook, entryTime, now)
			case env.Object == "instagram" && (c.Field == "comments" || c.Field == "live_comments"):
				p.igComment(c.Value, names.Instagram, entryTime)
			case env.Object == "instagram" && c.Field == "mentions":
				var v igMention
				if err := json.Unmarshal(c.Value, &v); err != nil || (v.MediaID == "" && v.CommentID == "") || e.ID == "" {
					p.skip("malformed")
					continue
				}
				p.Mentions = append(p.Mentions, InstagramMention{AccountID: e.ID, MediaID: v.MediaID, CommentID: v.CommentID, At: entryTime})
			default:
				p.skip("field_" + safeLabel(c.Field))
			}
		}
	}
	return p, nil
}

func (p *Parsed) feed(raw json.RawMessage, source string, entryTime, now time.Time) {
	var v feedValue
	if err := json.Unmarshal(raw, &v); err != nil {
		p.skip("malformed")
		return
	}
	switch v.Item {
	case "comment", "post", "status", "photo", "video", "share":
	default:
		p.skip("item_" + safeLabel(v.Item))
		return
	}
	id := v.PostID
	if v.Item == "comment" {
		id = v.CommentID
	}
	if id == "" {
		p.skip("malformed")
		return
	}
	switch v.Verb {
	case "remove":
		p.add(listener.TombstoneItem(listener.Tombstone{Source: source, ID: id, Reason: "deleted", At: now.UTC()}))
		return
	case "add", "edited":
	default:
		p.skip("verb_" + safeLabel(v.Verb))
		return
	}
	if strings.TrimSpace(v.Message) == "" {
		p.skip("no_text") // a photo without caption, or an edit that did not carry the text
		return
	}
	created := parseTime(v.CreatedTime)
	if created.IsZero() {
		created = entryTime
	}
	m := listener.Mention{
		Source:       source,
		ID:           id,
		CreatedAt:    created.UTC(),
		Text:         v.Message,
		Conversation: v.PostID,
		URL:          facebookURL(v.PostID, v.CommentID, v.Item == "comment"),
	}
	if v.Item == "comment" {
		m.ReplyTo = v.ParentID
		if m.ReplyTo == "" {
			m.ReplyTo = v.PostID
		}
	}
	m.Author = author(v.From, id)
	p.add(listener.MentionItem(m))
}

func (p *Parsed) igComment(raw json.RawMessage, source string, at time.Time) {
	var v igComment
	if err := json.Unmarshal(raw, &v); err != nil || v.ID == "" {
		p.skip("malformed")
		return
	}
	if strings.TrimSpace(v.Text) == "" {
		p.skip("no_text")
		return
	}
	m := listener.Mention{Source: source, ID: v.ID, CreatedAt: at.UTC(), Text: v.Text, Author: author(v.From, v.ID)}
	if v.Media != nil {
		m.Conversation = v.Media.ID
		m.ReplyTo = v.Media.ID
	}
	if v.ParentID != "" {
		m.ReplyTo = v.ParentID
	}
	p.add(listener.MentionItem(m))
}

func (p *Parsed) add(it listener.Item) {
	if err := checkItem(it); err != nil {
		p.skip("invalid")
		return
	}
	p.Items = append(p.Items, it)
}

// author is the change's author. Meta leaves "from" out for people who have
// not authorised the app: each such item gets an author of its own, so that
// unrelated people are never threaded together.
func author(f *from, itemID string) listener.Author {
	if f == nil || f.ID == "" {
		if f != nil && f.Username != "" {
			return listener.Author{ID: "username:" + f.Username, Handle: f.Username}
		}
		return listener.Author{ID: "anonymous:" + itemID}
	}
	return listener.Author{ID: f.ID, Name: f.Name, Handle: f.Username}
}

func facebookURL(postID, commentID string, isComment bool) string {
	if postID == "" {
		return ""
	}
	u := "https://www.facebook.com/" + postID
	if isComment && commentID != "" {
		if _, c, ok := strings.Cut(commentID, "_"); ok {
			commentID = c
		}
		u += "?comment_id=" + commentID
	}
	return u
}

// parseTime reads a Unix time in seconds (or milliseconds, when it is too
// large to be seconds), or an ISO 8601 string as the Graph API writes them.
func parseTime(raw json.RawMessage) time.Time {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return time.Time{}
	}
	if s[0] == '"' {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return time.Time{}
		}
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05-0700"} {
			if t, err := time.Parse(layout, str); err == nil {
				return t.UTC()
			}
		}
		s = str
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 || n > 1e14 {
		return time.Time{}
	}
	if n > 1e11 { // milliseconds: 1e11 seconds is year 5138
		return time.UnixMilli(int64(n)).UTC()
	}
	return time.Unix(int64(n), 0).UTC()
}

// safeLabel keeps a metric label value from a payload short and tame.
func safeLabel(s string) string {
	if s == "" {
		return "none"
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return "other"
		}
	}
	if len(s) > 24 {
		return "other"
	}
	return s
}
