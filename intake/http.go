package intake

import (
	"errors"
	"io"
	"mime"
	"net/http"
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
