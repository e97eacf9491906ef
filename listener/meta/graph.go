package meta

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/sources"
)

// GraphError is an error the Graph API answered.
type GraphError struct {
	Status  int    // HTTP status
	Code    int    `json:"code"`
	Subcode int    `json:"error_subcode"`
	Type    string `json:"type"`
	Message string `json:"message"`
	TraceID string `json:"fbtrace_id"`
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("graph api: HTTP %d, code %d/%d (%s): %s", e.Status, e.Code, e.Subcode, e.Type, e.Message)
}

// Throttled reports whether the error is a rate limit: wait, then retry.
func (e *GraphError) Throttled() bool {
	switch {
	case e.Code == 4, e.Code == 17, e.Code == 32, e.Code == 613:
		return true
	case e.Code >= 80001 && e.Code <= 80009: // business use case rate limits
		return true
	}
	return e.Status == http.StatusTooManyRequests
}

// Permanent reports whether a retry would fail the same way.
func (e *GraphError) Permanent() bool {
	switch {
	case e.Throttled():
		return false
	case e.Code == 1, e.Code == 2: // unknown / temporary service error
		return false
	case e.Code == 10, e.Code >= 200 && e.Code <= 299: // permissions
		return true
	case e.Code == 100, e.Code == 190, e.Code == 368: // invalid parameter (gone), token, policy block
		return true
	}
	return e.Status >= 400 && e.Status < 500
}

// Graph is a small Graph API client: it posts replies (implementing
// sources.Replier) and fetches Instagram mentions.
type Graph struct {
	base      string
	token     string
	proof     string
	client    *http.Client
	networks  Networks
	userAgent string
}

// NewGraph returns a client of the Graph API at baseURL (with its version,
// e.g. "https://graph.facebook.com/v21.0") using the Page access token. With
// an app secret, every call carries appsecret_proof.
func NewGraph(baseURL, token, appSecret string, names Networks, client *http.Client) *Graph {
	g := &Graph{base: strings.TrimRight(baseURL, "/"), token: token, client: client, networks: names.withDefaults(), userAgent: "vigie"}
	if appSecret != "" {
		mac := hmac.New(sha256.New, []byte(appSecret))
		mac.Write([]byte(token))
		g.proof = hex.EncodeToString(mac.Sum(nil))
	}
	if g.client == nil {
		g.client = &http.Client{Timeout: 20 * time.Second}
	}
	return g
}

var _ sources.Replier = (*Graph)(nil)

// Post replies to the post or comment r.InReplyTo: a comment on Facebook
// (POST /{id}/comments), a reply on Instagram (POST /{id}/replies). The
// Graph API offers no idempotency key: a retry after a timeout may post
// twice. Failures a retry will not fix wrap sources.ErrPermanent.
func (g *Graph) Post(ctx context.Context, r sources.Reply) (string, error) {
	if r.InReplyTo == "" || strings.ContainsAny(r.InReplyTo, "/?#") {
		return "", fmt.Errorf("meta reply: in-reply-to id %q: %w", r.InReplyTo, sources.ErrPermanent)
	}
	if strings.TrimSpace(r.Text) == "" {
		return "", fmt.Errorf("meta reply: empty text: %w", sources.ErrPermanent)
	}
	var edge string
	switch r.Source {
	case g.networks.Facebook:
		edge = "comments"
	case g.networks.Instagram:
		edge = "replies"
	default:
		return "", fmt.Errorf("meta reply: network %q: %w", r.Source, sources.ErrNoReplier)
	}
	form := url.Values{"message": {r.Text}}
	var out struct {
		ID string `json:"id"`
	}
	if err := g.call(ctx, http.MethodPost, "/"+url.PathEscape(r.InReplyTo)+"/"+edge, nil, form, &out); err != nil {
		return "", fmt.Errorf("meta reply to %s: %w", r.InReplyTo, err)
	}
	if out.ID == "" {
		return "", errors.New("meta reply: the Graph API answered no id")
	}
	return out.ID, nil
}

// FetchMention reads the comment or caption an Instagram mention points to
// and returns it as a Mention filed under the Instagram network.
func (g *Graph) FetchMention(ctx context.Context, m InstagramMention) (listener.Mention, error) {
	var field, fields string
	if m.CommentID != "" {
		field = "mentioned_comment"
		fields = fmt.Sprintf("mentioned_comment.comment_id(%s){id,text,timestamp,username,from,media{id,permalink}}", m.CommentID)
	} else {
		field = "mentioned_media"
		fields = fmt.Sprintf("mentioned_media.media_id(%s){id,caption,timestamp,username,permalink}", m.MediaID)
	}
	type media struct {
		ID        string `json:"id"`
		Text      string `json:"text"`
		Caption   string `json:"caption"`
		Timestamp string `json:"timestamp"`
		Username  string `json:"username"`
		Permalink string `json:"permalink"`
		From      *from  `json:"from"`
		Media     *struct {
			ID        string `json:"id"`
			Permalink string `json:"permalink"`
		} `json:"media"`
	}
	var out struct {
		Comment *media `json:"mentioned_comment"`
		Media   *media `json:"mentioned_media"`
	}
	if err := g.call(ctx, http.MethodGet, "/"+url.PathEscape(m.AccountID), url.Values{"fields": {fields}}, nil, &out); err != nil {
		return listener.Mention{}, fmt.Errorf("fetch instagram mention: %w", err)
	}
	v := out.Media
	if field == "mentioned_comment" {
		v = out.Comment
	}
	if v == nil || v.ID == "" {
		return listener.Mention{}, fmt.Errorf("fetch instagram mention: no %s in the answer: %w", field, sources.ErrPermanent)
	}
	mention := listener.Mention{Source: g.networks.Instagram, ID: v.ID, Text: v.Text, URL: v.Permalink, CreatedAt: m.At}
	if mention.Text == "" {
		mention.Text = v.Caption
	}
	if t := parseTime(json.RawMessage(`"` + v.Timestamp + `"`)); !t.IsZero() {
		mention.CreatedAt = t
	}
	if v.Media != nil {
		mention.Conversation, mention.ReplyTo = v.Media.ID, v.Media.ID
		if mention.URL == "" {
			mention.URL = v.Media.Permalink
		}
	}
	f := v.From
	if f == nil {
		f = &from{Username: v.Username}
	} else if f.Username == "" {
		f.Username = v.Username
	}
	mention.Author = author(f, v.ID)
	return mention, nil
}

// call does one Graph API request and decodes a 2xx answer into out. A
// Graph error wraps sources.ErrPermanent when a retry would not help.
func (g *Graph) call(ctx context.Context, method, path string, query, form url.Values, out any) error {
	if query == nil {
		query = url.Values{}
	}
	var body io.Reader
	if form != nil {
		form.Set("access_token", g.token)
		if g.proof != "" {
			form.Set("appsecret_proof", g.proof)
		}
		body = strings.NewReader(form.Encode())
	} else {
		query.Set("access_token", g.token)
		if g.proof != "" {
			query.Set("appsecret_proof", g.proof)
		}
	}
	u := g.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%w: %w", err, sources.ErrPermanent)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", g.userAgent)
	resp, err := g.client.Do(req)
	if err != nil {
		// The URL holds the token in a GET: report the operation, not the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var env struct {
			Error *GraphError `json:"error"`
		}
		ge := &GraphError{}
		if json.Unmarshal(raw, &env) == nil && env.Error != nil {
			ge = env.Error
		} else {
			ge.Message = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		}
		ge.Status = resp.StatusCode
		if ge.Permanent() {
			return fmt.Errorf("%w: %w", ge, sources.ErrPermanent)
		}
		return ge
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}
