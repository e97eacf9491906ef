package mastodon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigie/vigie/listener/source"
)

// restTimeout bounds one REST call.
const restTimeout = 30 * time.Second

// HTTPError is a non-2xx answer from the instance.
type HTTPError struct {
	Op     string
	Status int
	// Message is the server's {"error": ...} text, if any.
	Message string
	// RetryAt is when a rate limit resets (zero if not rate limited).
	RetryAt time.Time
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d", e.Op, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if !e.RetryAt.IsZero() {
		msg += " (rate limited until " + e.RetryAt.UTC().Format(time.RFC3339) + ")"
	}
	return msg
}

// rateGate follows the X-RateLimit-* headers: when the instance says no
// request is left, the next one waits for the reset.
type rateGate struct {
	mu        sync.Mutex
	remaining int // -1: unknown
	reset     time.Time
}

func newRateGate() *rateGate { return &rateGate{remaining: -1} }

// wait blocks until a request may be made.
func (g *rateGate) wait(ctx context.Context) error {
	g.mu.Lock()
	d := time.Duration(0)
	if g.remaining == 0 {
		d = time.Until(g.reset)
	}
	g.mu.Unlock()
	return source.Sleep(ctx, d)
}

// observe reads the rate-limit headers of a response.
func (g *rateGate) observe(h http.Header) {
	rem, err := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err != nil {
		return
	}
	reset, err := time.Parse(time.RFC3339Nano, h.Get("X-RateLimit-Reset"))
	if err != nil {
		reset = time.Now().Add(5 * time.Minute) // the window is 5 minutes
	}
	g.mu.Lock()
	g.remaining, g.reset = rem, reset
	g.mu.Unlock()
}

// responseError builds the error for a non-2xx response.
func (g *rateGate) responseError(op string, resp *http.Response) error {
	g.observe(resp.Header)
	e := &HTTPError{Op: op, Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var m struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &m) == nil {
		e.Message = m.Error
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAt = time.Now().Add(time.Minute)
		if t, err := time.Parse(time.RFC3339Nano, resp.Header.Get("X-RateLimit-Reset")); err == nil && t.After(time.Now()) {
			e.RetryAt = t
		}
	}
	return e
}

// rest makes REST calls to one instance.
type rest struct {
	cfg  *Config
	gate *rateGate
}

// do sends a request with the token and decodes a 2xx JSON answer into v.
func (r *rest) do(ctx context.Context, op, method, u string, body any, header http.Header, v any) (http.Header, error) {
	if err := r.gate.wait(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, restTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, r.gate.responseError(op, resp)
	}
	r.gate.observe(resp.Header)
	if v != nil {
		if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v); err != nil {
			return nil, fmt.Errorf("%s: decode: %w", op, err)
		}
	}
	return resp.Header, nil
}

// timelinePath returns the REST timeline that matches a stream.
func timelinePath(cfg *Config) string {
	switch cfg.Stream {
	case StreamHashtag:
		return "/api/v1/timelines/tag/" + url.PathEscape(cfg.Tag)
	case StreamHashtagLocal:
		return "/api/v1/timelines/tag/" + url.PathEscape(cfg.Tag) + "?local=true"
	case StreamPublic:
		return "/api/v1/timelines/public"
	case StreamPublicLocal:
		return "/api/v1/timelines/public?local=true"
	case StreamPublicRemote:
		return "/api/v1/timelines/public?remote=true"
	}
	return "/api/v1/timelines/home"
}

// pageAfter returns the URL of the page of statuses right after id.
func pageAfter(cfg *Config, id string) string {
	u := cfg.Server + timelinePath(cfg)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + url.Values{"min_id": {id}, "limit": {"40"}}.Encode()
}

// links parses an RFC 8288 Link header into rel → URL.
func links(h string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(h, ",") {
		part = strings.TrimSpace(part)
		target, params, ok := strings.Cut(part, ";")
		target = strings.TrimSpace(target)
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "rel") {
				for rel := range strings.FieldsSeq(strings.Trim(v, `"`)) {
					out[strings.ToLower(rel)] = target[1 : len(target)-1]
				}
			}
		}
	}
	return out
}

// sameOrigin reports whether link points to the same scheme and host as
// base, so that the token is never sent elsewhere.
func sameOrigin(base, link string) bool {
	b, err1 := url.Parse(base)
	l, err2 := url.Parse(link)
	return err1 == nil && err2 == nil && b.Scheme == l.Scheme && b.Host == l.Host
}

// idLess orders Mastodon ids: they are opaque strings, in practice decimal
// snowflakes, so a shorter id is older and equal lengths compare as text.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

var errGap = errors.New("catch-up stopped before reaching the stream: statuses may be missing")
