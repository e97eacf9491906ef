package x

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTPError is a non-2xx answer from the API.
type HTTPError struct {
	Op     string
	Status int
	// Title and Detail come from the problem body ({"title","detail"}).
	Title, Detail string
	// RetryAt is when x-rate-limit-reset says the window resets (zero when
	// not given).
	RetryAt time.Time
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.Op, e.Status)
	if e.Title != "" {
		s += " " + e.Title
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// responseError reads a problem body.
func responseError(op string, resp *http.Response) *HTTPError {
	e := &HTTPError{Op: op, Status: resp.StatusCode}
	var p struct {
		Title           string     `json:"title"`
		Detail          string     `json:"detail"`
		ConnectionIssue string     `json:"connection_issue"`
		Errors          []apiError `json:"errors"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 8<<10)).Decode(&p) == nil {
		e.Title, e.Detail = p.Title, p.Detail
		if p.ConnectionIssue != "" {
			e.Detail = strings.TrimSpace(p.ConnectionIssue + " " + e.Detail)
		}
		if e.Detail == "" && len(p.Errors) > 0 {
			e.Detail = p.Errors[0].Message + p.Errors[0].Detail
		}
	}
	if s, err := strconv.ParseInt(resp.Header.Get("x-rate-limit-reset"), 10, 64); err == nil && resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAt = time.Unix(s, 0)
	}
	return e
}

// api makes the non-streaming calls.
type api struct {
	cfg   *Config
	token string
}

// do sends a JSON request and decodes a 2xx JSON answer into out.
func (a *api) do(ctx context.Context, op, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.cfg.APIURL+path, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("User-Agent", a.cfg.UserAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return responseError(op, resp)
	}
	if out != nil {
		if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(out); err != nil {
			return fmt.Errorf("%s: decode: %w", op, err)
		}
	}
	return nil
}

// remoteRule is a rule as the API lists it.
type remoteRule struct {
	ID    string `json:"id"`
	Value string `json:"value"`
	Tag   string `json:"tag"`
}

// syncRules makes the account's rules the configured ones: rules whose tag
// and value match are kept, the others deleted, the missing added. It
// returns the rules X refused as invalid, as an error.
func (a *api) syncRules(ctx context.Context, want []Rule) error {
	var list struct {
		Data []remoteRule `json:"data"`
	}
	if err := a.do(ctx, "list stream rules", http.MethodGet, "/2/tweets/search/stream/rules", nil, &list); err != nil {
		return err
	}
	keep := map[Rule]bool{}
	var stale []string
	for _, r := range list.Data {
		k := Rule{Value: r.Value, Tag: r.Tag}
		if contains(want, k) && !keep[k] {
			keep[k] = true
			continue
		}
		stale = append(stale, r.ID)
	}
	if len(stale) > 0 {
		in := map[string]any{"delete": map[string][]string{"ids": stale}}
		if err := a.do(ctx, "delete stale stream rules", http.MethodPost, "/2/tweets/search/stream/rules", in, nil); err != nil {
			return err
		}
	}
	var add []Rule
	for _, r := range want {
		if !keep[r] {
			add = append(add, r)
		}
	}
	if len(add) == 0 {
		return nil
	}
	var res struct {
		Meta struct {
			Summary struct {
				Created int `json:"created"`
				Invalid int `json:"invalid"`
			} `json:"summary"`
		} `json:"meta"`
		Errors []apiError `json:"errors"`
	}
	if err := a.do(ctx, "add stream rules", http.MethodPost, "/2/tweets/search/stream/rules", map[string]any{"add": add}, &res); err != nil {
		return err
	}
	if res.Meta.Summary.Invalid > 0 {
		msg := ""
		for _, e := range res.Errors {
			msg += "; " + e.Title + ": " + e.Detail + e.Message
		}
		return fmt.Errorf("%w: %d of %d rules refused%s", errInvalidRules, res.Meta.Summary.Invalid, len(add), msg)
	}
	return nil
}

func contains(rules []Rule, r Rule) bool {
	for _, x := range rules {
		if x == r {
			return true
		}
	}
	return false
}
