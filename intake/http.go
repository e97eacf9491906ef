package intake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/listener"
)

// MaxBodyBytes bounds an ingest request body: 100,000 items of about 600
// bytes each, with room to spare.
const MaxBodyBytes = 64 << 20

// IngestResponse is the body of a 202 from the ingest endpoints. Accepted
// counts what was stored, edits (new versions of known items) included;
// Edited counts the edits among them.
type IngestResponse struct {
	Accepted   int                  `json:"accepted"`
	Edited     int                  `json:"edited"`
	Duplicates int                  `json:"duplicates"`
	Rejected   []listener.Rejection `json:"rejected"`
}

// Register mounts POST /mentions and POST /checkins on g, behind m.
func (l *Log) Register(g *echo.Group, m ...echo.MiddlewareFunc) {
	g.POST("/mentions", l.ingest("mentions", listener.DecodeMentions), m...)
	g.POST("/checkins", l.ingest("checkins", listener.DecodeCheckIns), m...)
}

type decoder func([]byte, bool) ([]listener.Decoded, []listener.Rejection, error)

func (l *Log) ingest(endpoint string, decode decoder) echo.HandlerFunc {
	kind := map[string]string{"mentions": "mention", "checkins": "checkin"}[endpoint]
	return func(c echo.Context) error {
		arrived := time.Now()
		code, body := l.handleIngest(c, kind, decode, arrived)
		l.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
		return c.JSON(code, body)
	}
}

func (l *Log) handleIngest(c echo.Context, kind string, decode decoder, arrived time.Time) (int, any) {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge, errorBody("body larger than " + strconv.Itoa(MaxBodyBytes) + " bytes: nothing stored")
		}
		return http.StatusBadRequest, errorBody("read body: " + err.Error())
	}
	ndjson := false
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err == nil {
		switch mt {
		case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines":
			ndjson = true
		case "application/json":
		default:
			ndjson = listener.LooksLikeNDJSON(body)
		}
	} else {
		ndjson = listener.LooksLikeNDJSON(body)
	}
	ok, rejected, err := decode(body, ndjson)
	switch {
	case errors.Is(err, listener.ErrTooManyItems):
		return http.StatusRequestEntityTooLarge, errorBody(err.Error() + ": nothing stored")
	case err != nil:
		return http.StatusBadRequest, errorBody(err.Error() + ": nothing stored")
	}
	ok, rejected = l.applyScope(r.Context(), ok, rejected)
	l.metrics.rejected.WithLabelValues(kind).Add(float64(len(rejected)))
	items := make([]listener.Item, len(ok))
	for i, d := range ok {
		items[i] = d.Item
	}
	res, err := l.Append(r.Context(), items, arrived)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return http.StatusServiceUnavailable, errorBody("shutting down: nothing stored, retry later")
		}
		return http.StatusServiceUnavailable, errorBody("storage unavailable: nothing stored, retry later")
	}
	out := IngestResponse{Rejected: rejected}
	if out.Rejected == nil {
		out.Rejected = []listener.Rejection{}
	}
	for _, r := range res {
		switch r.Outcome {
		case Accepted:
			out.Accepted++
		case Edited:
			out.Accepted++
			out.Edited++
		case Duplicate:
			out.Duplicates++
		}
	}
	return http.StatusAccepted, out
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

// SetSourceScope installs scope, which the ingest endpoints call with each
// request's context: when it returns a source name, items of any other
// source are rejected one by one (code "source_not_allowed") and the rest
// accepted. cmd/vigie wires the API token's source scope here. Call it
// before serving.
func (l *Log) SetSourceScope(scope func(ctx context.Context) string) { l.scope = scope }

// applyScope moves the decoded items whose source the request may not
// ingest to the rejections, keeping both in request order.
func (l *Log) applyScope(ctx context.Context, ok []listener.Decoded, rejected []listener.Rejection) ([]listener.Decoded, []listener.Rejection) {
	for i := range rejected {
		if rejected[i].Code == "" {
			rejected[i].Code = listener.CodeInvalid
		}
	}
	if l.scope == nil {
		return ok, rejected
	}
	allowed := l.scope(ctx)
	if allowed == "" {
		return ok, rejected
	}
	kept := ok[:0:0]
	var refused []listener.Rejection
	for _, d := range ok {
		if src := d.Item.SourceName(); src != allowed {
			refused = append(refused, listener.Rejection{Index: d.Index, Code: listener.CodeSourceNotAllowed,
				Error: fmt.Sprintf("source: %q is not allowed for this token (scoped to %q)", src, allowed)})
			continue
		}
		kept = append(kept, d)
	}
	if len(refused) == 0 {
		return ok, rejected
	}
	l.metrics.scopeRejected.Add(float64(len(refused)))
	all := append(rejected, refused...)
	slices.SortStableFunc(all, func(a, b listener.Rejection) int { return cmp.Compare(a.Index, b.Index) })
	return kept, all
}
