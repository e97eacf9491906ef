package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
)

// The index can run in a process of its own (the search worker, started by
// the server at a lower CPU priority, so that indexing never delays the
// agents' tickets). The worker serves Handler on a Unix socket; the server
// talks to it through a Remote, which mounts the same GET /search.

// Handler is the worker's side: its HTTP interface on the socket.
//
//	GET  /search?...   as Register's, answered by this index
//	GET  /cursor       {"cursor": Seq of the last event in the index}
//	POST /compact      Compact; 204 once done
//	GET  /metrics      metrics, the Prometheus text format
func (ix *Index) Handler(metrics http.Handler) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	ix.Register(e.Group(""))
	e.GET("/cursor", func(c echo.Context) error {
		cur, err := ix.Cursor()
		if err != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable, err.Error())
		}
		return c.JSON(http.StatusOK, map[string]int64{"cursor": cur})
	})
	e.POST("/compact", func(c echo.Context) error {
		if err := ix.Compact(c.Request().Context()); err != nil {
			return echo.NewHTTPError(http.StatusInternalServerError, err.Error())
		}
		return c.NoContent(http.StatusNoContent)
	})
	e.GET("/metrics", echo.WrapHandler(metrics))
	return e
}

// Remote is the server's side: the index of a worker, reached on its Unix
// socket. It is safe for concurrent use.
type Remote struct {
	client *http.Client
}

// NewRemote returns the Remote of the worker listening on socket.
func NewRemote(socket string) *Remote {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConns:    8,
		IdleConnTimeout: time.Minute,
	}
	return &Remote{client: &http.Client{Transport: tr}}
}

// remoteTimeout bounds a call that has no deadline of its own.
const remoteTimeout = 10 * time.Second

// ErrUnavailable is returned when the worker cannot be reached (it is
// starting, or restarting after a crash).
var ErrUnavailable = errors.New("search: worker unavailable")

func (r *Remote) do(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://search"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return resp, nil
}

// call runs a call that expects want, and returns the body.
func (r *Remote) call(ctx context.Context, method, path string, want int) ([]byte, error) {
	resp, err := r.do(ctx, method, path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("search worker: %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// Cursor returns the Seq of the last event in the worker's index.
func (r *Remote) Cursor() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	body, err := r.call(ctx, http.MethodGet, "/cursor", http.StatusOK)
	if err != nil {
		return 0, err
	}
	var v struct {
		Cursor *int64 `json:"cursor"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Cursor == nil {
		return 0, fmt.Errorf("search worker: bad cursor %q", body)
	}
	return *v.Cursor, nil
}

// Compact runs Compact in the worker.
func (r *Remote) Compact(ctx context.Context) error {
	_, err := r.call(ctx, http.MethodPost, "/compact", http.StatusNoContent)
	return err
}

// Gather returns the worker's metrics (a prometheus.Gatherer), nothing
// while it cannot be reached: the server's own metrics say whether it runs.
func (r *Remote) Gather() ([]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	body, err := r.call(ctx, http.MethodGet, "/metrics", http.StatusOK)
	if errors.Is(err, ErrUnavailable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("search worker: metrics: %w", err)
	}
	out := make([]*dto.MetricFamily, 0, len(fams))
	for _, f := range fams {
		out = append(out, f)
	}
	return out, nil
}

var _ prometheus.Gatherer = (*Remote)(nil)

// Register mounts GET /search on g, as Index.Register does: a bad request
// is answered here, a good one by the worker; 503 while the worker cannot
// be reached.
func (r *Remote) Register(g *echo.Group, m ...echo.MiddlewareFunc) {
	g.GET("/search", r.handleSearch, m...)
}

func (r *Remote) handleSearch(c echo.Context) error {
	if _, err := ParseRequest(c.QueryParams()); err != nil {
		var re *RequestError
		if errors.As(err, &re) {
			return c.JSON(http.StatusBadRequest, map[string]string{"error": re.Error()})
		}
		return err
	}
	resp, err := r.do(c.Request().Context(), http.MethodGet, "/search?"+c.QueryString())
	if errors.Is(err, ErrUnavailable) {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "search index unavailable: retry later"})
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusBadRequest, http.StatusServiceUnavailable:
		return c.Stream(resp.StatusCode, echo.MIMEApplicationJSON, resp.Body)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return echo.NewHTTPError(http.StatusInternalServerError, "search failed").
		SetInternal(fmt.Errorf("search worker: %s: %s", resp.Status, strings.TrimSpace(string(body))))
}
