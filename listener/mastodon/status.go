package mastodon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/source"
)

// status is the part of a Mastodon Status entity Vigie reads.
type status struct {
	ID                 string     `json:"id"`
	URI                string     `json:"uri"`
	URL                string     `json:"url"`
	CreatedAt          time.Time  `json:"created_at"`
	EditedAt           *time.Time `json:"edited_at"`
	Content            string     `json:"content"`
	SpoilerText        string     `json:"spoiler_text"`
	Language           string     `json:"language"`
	Visibility         string     `json:"visibility"`
	InReplyToID        string     `json:"in_reply_to_id"`
	InReplyToAccountID string     `json:"in_reply_to_account_id"`
	Reblog             *status    `json:"reblog"`
	Account            account    `json:"account"`
	RepliesCount       int64      `json:"replies_count"`
	ReblogsCount       int64      `json:"reblogs_count"`
	FavouritesCount    int64      `json:"favourites_count"`
}

// account is the part of a Mastodon Account entity Vigie reads.
type account struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Acct           string `json:"acct"`
	DisplayName    string `json:"display_name"`
	URL            string `json:"url"`
	Bot            bool   `json:"bot"`
	FollowersCount int64  `json:"followers_count"`
	FollowingCount int64  `json:"following_count"`
	StatusesCount  int64  `json:"statuses_count"`
}

// notification is the user stream's notification event.
type notification struct {
	ID     string  `json:"id"`
	Type   string  `json:"type"`
	Status *status `json:"status"`
}

// parseStatus reads a Status JSON payload.
func parseStatus(data []byte) (*status, error) {
	var s status
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode status: %w", err)
	}
	if s.ID == "" {
		return nil, errors.New("decode status: no id")
	}
	if s.Account.ID == "" {
		return nil, fmt.Errorf("decode status %s: no account id", s.ID)
	}
	if s.CreatedAt.IsZero() {
		return nil, fmt.Errorf("decode status %s: no created_at", s.ID)
	}
	return &s, nil
}

// version is the key that tells two versions of a status apart: its id, and
// its edit time once edited.
func (s *status) version() string {
	if s.EditedAt == nil {
		return s.ID
	}
	return s.ID + "@" + s.EditedAt.UTC().Format(time.RFC3339Nano)
}

// mention turns a status into a listener mention; host is the instance's
// host name, used to complete a local account's acct.
func (s *status) mention(sourceName, host string) listener.Mention {
	text := htmlText(s.Content)
	if s.SpoilerText != "" {
		text = strings.TrimSpace(s.SpoilerText + "\n\n" + text)
	}
	acct := s.Account.Acct
	if acct != "" && !strings.Contains(acct, "@") && host != "" {
		acct += "@" + host
	}
	handle := ""
	if acct != "" {
		handle = "@" + acct
	}
	link := s.URL
	if link == "" {
		link = s.URI
	}
	m := listener.Mention{
		Source:    sourceName,
		ID:        s.ID,
		URL:       link,
		CreatedAt: s.CreatedAt.UTC(),
		Author: listener.Author{
			ID:        s.Account.ID,
			Handle:    handle,
			Name:      s.Account.DisplayName,
			Followers: s.Account.FollowersCount,
			Following: s.Account.FollowingCount,
			Posts:     s.Account.StatusesCount,
		},
		Text:    text,
		Lang:    source.Lang(s.Language),
		ReplyTo: s.InReplyToID,
	}
	if s.RepliesCount+s.ReblogsCount+s.FavouritesCount > 0 {
		m.Engagement = &listener.Engagement{Likes: s.FavouritesCount, Reposts: s.ReblogsCount, Replies: s.RepliesCount}
	}
	return m
}

// htmlText turns a status's HTML content into plain text: paragraphs become
// blank lines, <br> a newline, entities are decoded and tags dropped (the
// "invisible" spans Mastodon uses to shorten links keep their text, so links
// come out whole).
func htmlText(content string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(content))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			if name, _ := z.TagName(); string(name) == "br" {
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "p" {
				b.WriteString("\n\n")
			}
		}
	}
}

// hostOf returns the host of a base URL.
func hostOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// parseNotification reads a notification payload.
func parseNotification(data []byte) (*notification, error) {
	var n notification
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("decode notification: %w", err)
	}
	if n.Status != nil && (n.Status.ID == "" || n.Status.Account.ID == "" || n.Status.CreatedAt.IsZero()) {
		return nil, errors.New("decode notification: status lacks id, account or created_at")
	}
	return &n, nil
}
