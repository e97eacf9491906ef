package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// XRPCError is an XRPC call's failure: the HTTP status and the
// {"error","message"} body.
type XRPCError struct {
	Method  string
	Status  int
	Name    string // "ExpiredToken", "InvalidRequest", "RateLimitExceeded"...
	Message string
	// RetryAt is when a rate limit resets (zero if not rate limited).
	RetryAt time.Time
}

func (e *XRPCError) Error() string {
	s := fmt.Sprintf("xrpc %s: HTTP %d", e.Method, e.Status)
	if e.Name != "" {
		s += " " + e.Name
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// xrpc calls XRPC methods on one host.
type xrpc struct {
	base   string
	client *http.Client
}

// call runs method (a query when in is nil and q is set, a procedure when in
// is set) and decodes the answer into out.
func (x *xrpc) call(ctx context.Context, method string, q url.Values, in any, bearer string, out any) error {
	u := x.base + "/xrpc/" + method
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	httpMethod, body := http.MethodGet, io.Reader(nil)
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("xrpc %s: %w", method, err)
		}
		httpMethod, body = http.MethodPost, bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, httpMethod, u, body)
	if err != nil {
		return fmt.Errorf("xrpc %s: %w", method, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := x.client.Do(req)
	if err != nil {
		return fmt.Errorf("xrpc %s: %w", method, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e := &XRPCError{Method: method, Status: resp.StatusCode}
		var eb struct{ Error, Message string }
		if json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&eb) == nil {
			e.Name, e.Message = eb.Error, eb.Message
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			e.RetryAt = time.Now().Add(time.Minute)
			if s, err := strconv.ParseInt(resp.Header.Get("RateLimit-Reset"), 10, 64); err == nil {
				e.RetryAt = time.Unix(s, 0)
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(out); err != nil {
		return fmt.Errorf("xrpc %s: decode: %w", method, err)
	}
	return nil
}

// profile is the part of app.bsky.actor.defs#profileViewDetailed Vigie
// reads.
type profile struct {
	DID            string `json:"did"`
	Handle         string `json:"handle"`
	DisplayName    string `json:"displayName"`
	FollowersCount int64  `json:"followersCount"`
	FollowsCount   int64  `json:"followsCount"`
	PostsCount     int64  `json:"postsCount"`
}

// maxProfiles bounds the profile cache: a busy brand hears from tens of
// thousands of authors a day; 50,000 small entries are a few MB.
const maxProfiles = 50_000

// profiles caches getProfile answers for a TTL.
type profiles struct {
	x   *xrpc
	ttl time.Duration

	mu sync.Mutex
	m  map[string]cachedProfile
}

type cachedProfile struct {
	p       profile
	expires time.Time
}

// get returns did's profile, from the cache when fresh.
func (c *profiles) get(ctx context.Context, did string) (profile, error) {
	now := time.Now()
	c.mu.Lock()
	cp, ok := c.m[did]
	c.mu.Unlock()
	if ok && now.Before(cp.expires) {
		return cp.p, nil
	}
	var p profile
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.x.call(ctx, "app.bsky.actor.getProfile", url.Values{"actor": {did}}, nil, "", &p); err != nil {
		return profile{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxProfiles {
		for k, v := range c.m { // drop the expired, or any half
			if now.After(v.expires) || len(c.m) >= maxProfiles/2 {
				delete(c.m, k)
			}
		}
	}
	c.m[did] = cachedProfile{p: p, expires: now.Add(c.ttl)}
	return p, nil
}

// setHandle updates a cached handle after an identity event.
func (c *profiles) setHandle(did, handle string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cp, ok := c.m[did]; ok {
		cp.p.Handle = handle
		c.m[did] = cp
	}
}
