package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigie/vigie/internal/pause"
	"github.com/vigie/vigie/listener"
)

// Defaults and bounds of PostConfig.
const (
	// DefaultURL is where a local Vigie listens.
	DefaultURL = "http://127.0.0.1:8080"
	// DefaultBatch is the lines a request carries: a few hundred KB, one
	// group commit on the server.
	DefaultBatch = 500
	// MaxBatchBytes bounds a request body, well under the server's 64 MiB.
	MaxBatchBytes = 8 << 20
	// mentionsPath is the ingest endpoint, appended to a base URL.
	mentionsPath = "/api/v1/mentions"
)

// PostConfig configures Post.
type PostConfig struct {
	// File is the NDJSON file of mentions. Required.
	File string
	// URL is Vigie's base URL (default DefaultURL). A URL whose path already
	// ends in /api/v1/mentions is used as it is.
	URL string
	// Token is sent as "Authorization: Bearer <token>" when set.
	Token string
	// Rate is how many mentions a second to send; zero means as fast as the
	// server takes them. When set, batches shrink to a fifth of a second of
	// mentions so the flow stays smooth.
	Rate float64
	// Batch is the most lines one request carries (default DefaultBatch, at
	// most listener.MaxItems).
	Batch int
	// Client sends the requests (default: a client with a 2-minute timeout).
	Client *http.Client
	// MaxAttempts bounds the tries of one batch (default 10).
	MaxAttempts int
	// Backoff is the first wait before a retry; it doubles at each attempt,
	// up to MaxBackoff (defaults 250 ms and 15 s). A Retry-After header, when
	// longer, wins (up to a minute).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Logger receives a warning for each retry (default: none).
	Logger *slog.Logger
}

// Validate fills defaults and checks the configuration.
func (c *PostConfig) Validate() error {
	if c.File == "" {
		return errors.New("replay: file required")
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("replay: url %q: want http(s)://host[:port]", c.URL)
	}
	if !strings.HasSuffix(strings.TrimRight(u.Path, "/"), mentionsPath) {
		u.Path = strings.TrimRight(u.Path, "/") + mentionsPath
	}
	c.URL = u.String()
	if math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate < 0 {
		return fmt.Errorf("replay: rate %v must be a finite number >= 0", c.Rate)
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Batch < 1 || c.Batch > listener.MaxItems {
		return fmt.Errorf("replay: batch %d must be within [1, %d]", c.Batch, listener.MaxItems)
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 2 * time.Minute}
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.Backoff == 0 {
		c.Backoff = 250 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 15 * time.Second
	}
	if c.MaxAttempts < 1 || c.Backoff < 0 || c.MaxBackoff < c.Backoff {
		return fmt.Errorf("replay: attempts %d must be >= 1 and back-off %v within [0, %v]", c.MaxAttempts, c.Backoff, c.MaxBackoff)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// PostStats is what Post did, from the server's answers.
type PostStats struct {
	// Lines counts the non-blank lines read.
	Lines int `json:"lines"`
	// Sent counts the lines posted (the lines too long to post are not).
	Sent int `json:"sent"`
	// Accepted counts what the server stored, edits included; Edited the
	// edits among them.
	Accepted   int `json:"accepted"`
	Edited     int `json:"edited"`
	Duplicates int `json:"duplicates"`
	// Rejected counts the lines refused, by the server or as too long.
	Rejected int `json:"rejected"`
	// Rejections holds the first refused lines (up to 1,000) with the
	// reason, by line number in the file.
	Rejections []LineError `json:"rejections,omitempty"`
	Batches    int         `json:"batches"`
	// Retries counts the extra attempts after 429, 502, 503, 504 or a
	// network error.
	Retries int           `json:"retries"`
	Elapsed time.Duration `json:"elapsed"`
}

func (s *PostStats) reject(line int, msg string) {
	s.Rejected++
	if len(s.Rejections) < maxKeptErrors {
		s.Rejections = append(s.Rejections, LineError{Line: line, Error: msg})
	}
}

// ingestResponse is the body of a 202 from POST /api/v1/mentions.
type ingestResponse struct {
	Accepted   int                  `json:"accepted"`
	Edited     int                  `json:"edited"`
	Duplicates int                  `json:"duplicates"`
	Rejected   []listener.Rejection `json:"rejected"`
}

// StatusError is a refusal Post does not retry: the server's status and its
// error message.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("server answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		msg += " (check the token: --token or VIGIE_ADMIN_TOKEN)"
	}
	return msg
}

// Post sends the mentions of cfg.File to a running Vigie in NDJSON batches
// and returns what the server made of them. It stops at the first batch that
// fails for good (a status other than 202, 429, 502, 503, 504, or retries
// exhausted) and returns the stats so far with the error; ctx cancels it.
func Post(ctx context.Context, cfg PostConfig) (st PostStats, err error) {
	if err := cfg.Validate(); err != nil {
		return st, err
	}
	f, err := os.Open(cfg.File)
	if err != nil {
		return st, fmt.Errorf("replay: open %q: %w", cfg.File, err)
	}
	defer f.Close()
	start := time.Now()
	defer func() { st.Elapsed = time.Since(start) }()

	batch := cfg.Batch
	if cfg.Rate > 0 {
		batch = max(1, min(batch, int(cfg.Rate/5)))
	}
	var (
		lr    = newLineReader(f)
		body  bytes.Buffer
		lines []int // line number of each item of the batch
		eof   bool
	)
	for !eof {
		body.Reset()
		lines = lines[:0]
		for len(lines) < batch && body.Len() < MaxBatchBytes {
			line, n, err := lr.next()
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if errors.Is(err, errLineTooLong) {
				st.Lines++
				st.reject(n, err.Error())
				continue
			}
			if err != nil {
				return st, fmt.Errorf("replay: read %q after line %d: %w", cfg.File, n, err)
			}
			st.Lines++
			body.Write(line)
			body.WriteByte('\n')
			lines = append(lines, n)
		}
		if len(lines) == 0 {
			continue
		}
		if cfg.Rate > 0 {
			// The batch leaves when its last mention is due.
			due := start.Add(time.Duration(float64(st.Sent+len(lines)-1) / cfg.Rate * float64(time.Second)))
			if err := pause.For(ctx, time.Until(due)); err != nil {
				return st, err
			}
		}
		res, err := postBatch(ctx, &cfg, body.Bytes(), lines, &st)
		if err != nil {
			return st, err
		}
		st.Batches++
		st.Sent += len(lines)
		st.Accepted += res.Accepted
		st.Edited += res.Edited
		st.Duplicates += res.Duplicates
		for _, r := range res.Rejected {
			line := 0
			if r.Index >= 0 && r.Index < len(lines) {
				line = lines[r.Index]
			}
			st.reject(line, r.Error)
		}
	}
	return st, nil
}

// postBatch posts one batch, retrying it whole on transient failures.
func postBatch(ctx context.Context, cfg *PostConfig, body []byte, lines []int, st *PostStats) (ingestResponse, error) {
	var lastErr error
	for attempt := range cfg.MaxAttempts {
		if attempt > 0 {
			st.Retries++
		}
		res, retryAfter, err := postOnce(ctx, cfg, body)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		var se *StatusError
		if errors.As(err, &se) && !retryable(se.Status) {
			return res, fmt.Errorf("replay: post lines %d-%d: %w", lines[0], lines[len(lines)-1], err)
		}
		lastErr = err
		if attempt == cfg.MaxAttempts-1 {
			break
		}
		wait := backoff(cfg.Backoff, cfg.MaxBackoff, attempt)
		if retryAfter > wait {
			wait = min(retryAfter, time.Minute)
		}
		cfg.Logger.Warn("replay_post_retry", "component", "replay", "attempt", attempt+1, "wait", wait, "error", err)
		if err := pause.For(ctx, wait); err != nil {
			return res, err
		}
	}
	return ingestResponse{}, fmt.Errorf("replay: post lines %d-%d: giving up after %d attempts: %w", lines[0], lines[len(lines)-1], cfg.MaxAttempts, lastErr)
}

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is base·2^attempt, capped, with ±20% jitter so that several
// clients do not retry in step.
func backoff(base, ceiling time.Duration, attempt int) time.Duration {
	d := float64(base) * math.Pow(2, float64(min(attempt, 30)))
	d = min(d, float64(ceiling))
	return time.Duration(d * (0.8 + 0.4*rand.Float64()))
}

// postOnce makes one attempt. It returns a *StatusError for an answer other
// than 202, with the Retry-After the server asked for, if any.
func postOnce(ctx context.Context, cfg *PostConfig, body []byte) (ingestResponse, time.Duration, error) {
	var res ingestResponse
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return res, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "vigie-replay")
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return res, 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	// A 202 lists a reason per rejected line: allow for a whole batch of them.
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return res, 0, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && (e.Error != "" || e.Message != "") {
			msg = e.Error
			if msg == "" {
				msg = e.Message
			}
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return res, retryAfter(resp.Header.Get("Retry-After")), &StatusError{Status: resp.StatusCode, Message: msg}
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		// The batch is stored but the answer is unreadable: retrying is
		// safe, the server will count the items as duplicates.
		return res, 0, fmt.Errorf("decode 202 response: %w", err)
	}
	return res, 0, nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}
