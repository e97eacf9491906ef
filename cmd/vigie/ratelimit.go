package main

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/vigie/vigie/auth"
)

// ingestLimiter bounds how fast one principal may post to the ingest
// endpoints, in requests: a runaway or hostile client gets 429s with a
// Retry-After and cannot starve the others. Items per request are already
// bounded by the decoder (100,000).
type ingestLimiter struct {
	mu       sync.Mutex
	perSec   rate.Limit
	burst    int
	limiters map[string]*rate.Limiter
}

func newIngestLimiter(perSec float64, burst int) *ingestLimiter {
	return &ingestLimiter{perSec: rate.Limit(perSec), burst: burst, limiters: map[string]*rate.Limiter{}}
}

func (l *ingestLimiter) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := auth.FromContext(c.Request().Context())
		key := p.User + "/" + p.TokenID
		l.mu.Lock()
		lim := l.limiters[key]
		if lim == nil {
			lim = rate.NewLimiter(l.perSec, l.burst)
			l.limiters[key] = lim
		}
		l.mu.Unlock()
		r := lim.Reserve()
		if d := r.Delay(); d > 0 {
			r.Cancel()
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max(d, time.Second).Seconds()))))
			return echo.NewHTTPError(http.StatusTooManyRequests, "ingest rate limit: retry later, nothing stored")
		}
		return next(c)
	}
}
