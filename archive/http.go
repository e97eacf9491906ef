package archive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// HandlerConfig configures the KPI endpoint.
type HandlerConfig struct {
	// SLA gives each queue's first-response target.
	SLA SLAPolicy
	// DefaultRange is the span of a query without from (default 24h).
	DefaultRange time.Duration
	// Now returns the current time (default time.Now); tests pin it.
	Now func() time.Time
	// Engagement, when set, adds the engagement KPIs kept outside the
	// archive (the CRM's: interaction rate, new prospects) to the response,
	// under "engagement", for the same query. It must not fail on a valid
	// query but for a broken store.
	Engagement func(ctx context.Context, q Query) (any, error)
}

// Handler serves the KPIs over HTTP.
type Handler struct {
	kpis KPIReader
	cfg  HandlerConfig
}

// NewHandler returns the KPI endpoint over kpis.
func NewHandler(kpis KPIReader, cfg HandlerConfig) (*Handler, error) {
	if cfg.DefaultRange == 0 {
		cfg.DefaultRange = 24 * time.Hour
	}
	if cfg.DefaultRange < 0 {
		return nil, fmt.Errorf("archive: default range %s must be positive", cfg.DefaultRange)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for q, t := range cfg.SLA.Targets {
		if t <= 0 {
			return nil, fmt.Errorf("archive: SLA target of queue %q must be positive", q)
		}
	}
	if cfg.SLA.Default < 0 {
		return nil, fmt.Errorf("archive: default SLA target %s must be positive", cfg.SLA.Default)
	}
	return &Handler{kpis: kpis, cfg: cfg}, nil
}

// KPIResponse is the body of GET /kpis.
type KPIResponse struct {
	From            time.Time `json:"from"`
	To              time.Time `json:"to"`
	IntervalSeconds int64     `json:"interval_seconds"`
	By              Dimension `json:"by"`
	Buckets         []Bucket  `json:"buckets"`
	// Engagement is HandlerConfig.Engagement's answer, absent without it.
	Engagement any `json:"engagement,omitempty"`
}

// Register mounts GET /kpis on g (the /api/v1 group):
//
//	GET /kpis?from=&to=&interval=1h&by=queue|source|agent
//
// from and to are RFC 3339 times or Unix seconds (to defaults to now, from
// to 24h before to); interval is a Go duration ("15m", "1h") or a number of
// days ("1d", "7d"), default 1h; by is optional.
func (h *Handler) Register(g *echo.Group, m ...echo.MiddlewareFunc) {
	g.GET("/kpis", h.get, m...)
}

func (h *Handler) get(c echo.Context) error {
	q, err := h.parse(c.QueryParams().Get)
	if err != nil {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	buckets, err := h.kpis.KPIs(c.Request().Context(), q)
	if errors.Is(err, ErrInvalidQuery) {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	if err != nil {
		return fmt.Errorf("compute KPIs: %w", err)
	}
	if buckets == nil {
		buckets = []Bucket{}
	}
	resp := KPIResponse{From: q.From.UTC(), To: q.To.UTC(),
		IntervalSeconds: int64(q.Interval / time.Second), By: q.By, Buckets: buckets}
	if h.cfg.Engagement != nil {
		if resp.Engagement, err = h.cfg.Engagement(c.Request().Context(), q); err != nil {
			return fmt.Errorf("compute engagement KPIs: %w", err)
		}
	}
	return c.JSON(http.StatusOK, resp)
}

// parse reads and validates the query parameters.
func (h *Handler) parse(get func(string) string) (Query, error) {
	now := h.cfg.Now()
	q := Query{To: now, Interval: time.Hour, By: Dimension(get("by")), SLA: h.cfg.SLA, Now: now}
	var err error
	if s := get("to"); s != "" {
		if q.To, err = parseTime(s); err != nil {
			return q, fmt.Errorf("to: %w", err)
		}
	}
	q.From = q.To.Add(-h.cfg.DefaultRange)
	if s := get("from"); s != "" {
		if q.From, err = parseTime(s); err != nil {
			return q, fmt.Errorf("from: %w", err)
		}
	}
	if s := get("interval"); s != "" {
		if q.Interval, err = parseInterval(s); err != nil {
			return q, fmt.Errorf("interval: %w", err)
		}
	}
	if err := q.Validate(); err != nil {
		return q, err
	}
	return q, nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n < 1<<40 {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-22T10:00:00Z) nor Unix seconds", s)
}

func parseInterval(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3660 {
			return 0, fmt.Errorf("%q: a number of days must be a positive integer, e.g. 1d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 15m, 1h or 1d", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}
