package offer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// apiServer mounts the handler the way cmd/vigie does: the API group behind
// (here, pass-through) guards, the callbacks on the public group, and an
// error handler that writes echo.HTTPError messages.
func apiServer(t testing.TB, e *Engine) *echo.Echo {
	t.Helper()
	ec := echo.New()
	ec.HTTPErrorHandler = func(err error, c echo.Context) {
		code, msg := http.StatusInternalServerError, "internal error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code, msg = he.Code, fmt.Sprint(he.Message)
		}
		c.JSON(code, map[string]string{"error": msg})
	}
	pass := func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	h := &Handler{Engine: e, Who: func(context.Context) string { return "maria" }}
	h.Register(ec.Group("/api/v1"), pass, pass, pass)
	h.RegisterCallbacks(ec.Group("/api/v1"))
	return ec
}

type response struct {
	code int
	body map[string]any
	raw  string
}

func do(t testing.TB, ec *echo.Echo, method, path, body string, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	ec.ServeHTTP(rec, req)
	r := response{code: rec.Code, raw: rec.Body.String()}
	json.Unmarshal(rec.Body.Bytes(), &r.body)
	return r
}

const fenceJSON = `{"name": "Velora Flatiron", "tags": ["nyc"], "time_zone": "America/New_York",
	"geometry": {"type": "Point", "coordinates": [-73.9897, 40.7411]}, "radius_m": 100,
	"hours": {"mon": ["09:00-19:30"]}, "exceptions": [{"date": "2026-12-25", "closed": true}]}`

func TestAPIValidation(t *testing.T) {
	t.Parallel()
	e := openEngine(t, Config{}, nil, nil)
	ec := apiServer(t, e)
	tests := []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"fence ok", "POST", "/api/v1/geofences", fenceJSON, 201, ""},
		{"fence not JSON", "POST", "/api/v1/geofences", `{`, 400, "body:"},
		{"fence empty body", "POST", "/api/v1/geofences", ``, 400, "JSON object is required"},
		{"fence unknown field", "POST", "/api/v1/geofences", `{"nom": "x"}`, 400, `unknown field "nom"`},
		{"fence no name", "POST", "/api/v1/geofences", `{"time_zone": "UTC", "geometry": {"type": "Point", "coordinates": [0, 0]}, "radius_m": 5}`, 400, "name: required"},
		{"fence radius 0", "POST", "/api/v1/geofences", `{"name": "a", "time_zone": "UTC", "geometry": {"type": "Point", "coordinates": [0, 0]}}`, 400, "radius greater than 0"},
		{"fence latitude", "POST", "/api/v1/geofences", `{"name": "a", "time_zone": "UTC", "geometry": {"type": "Point", "coordinates": [0, 100]}, "radius_m": 5}`, 400, "latitude 100"},
		{"fence open polygon", "POST", "/api/v1/geofences", `{"name": "a", "time_zone": "UTC", "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]}}`, 400, "not closed"},
		{"fence bad zone", "POST", "/api/v1/geofences", `{"name": "a", "time_zone": "Mars/Olympus", "geometry": {"type": "Point", "coordinates": [0, 0]}, "radius_m": 5}`, 400, "time_zone"},
		{"fence Local zone", "POST", "/api/v1/geofences", `{"name": "a", "time_zone": "Local", "geometry": {"type": "Point", "coordinates": [0, 0]}, "radius_m": 5}`, 400, "time_zone"},
		{"fence no zone", "POST", "/api/v1/geofences", `{"name": "a", "geometry": {"type": "Point", "coordinates": [0, 0]}, "radius_m": 5}`, 400, "time_zone: required"},
		{"fence bad hours", "POST", "/api/v1/geofences", `{"name": "a", "time_zone": "UTC", "geometry": {"type": "Point", "coordinates": [0, 0]}, "radius_m": 5, "hours": {"mon": ["9h-19h"]}}`, 400, "hours.mon[0]"},
		{"fence with an id", "POST", "/api/v1/geofences", `{"id": 7, "name": "a", "time_zone": "UTC", "geometry": {"type": "Point", "coordinates": [0, 0]}, "radius_m": 5}`, 400, "assigned by the server"},
		{"fence bad id", "GET", "/api/v1/geofences/abc", ``, 400, "not a positive integer"},
		{"fence missing", "GET", "/api/v1/geofences/99", ``, 404, "not found"},
		{"fence put missing", "PUT", "/api/v1/geofences/99", fenceJSON, 404, "not found"},
		{"fence delete missing", "DELETE", "/api/v1/geofences/99", ``, 404, "not found"},
		{"campaign no fences", "POST", "/api/v1/campaigns", `{"name": "c", "offer": {"template": "hi"}}`, 400, "fence ids or tags"},
		{"campaign unknown variable", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "hi {{first_name}}"}}`, 400, "unknown variable {{first_name}}"},
		{"campaign code missing", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "use {{code}}"}}`, 400, "no code"},
		{"campaign unbalanced", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "hi {{name}"}}`, 400, "unbalanced"},
		{"campaign bad quiet", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "hi"}, "schedule": {"quiet_hours": "late"}}`, 400, "quiet_hours"},
		{"campaign bad day", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "hi"}, "schedule": {"days": ["monday"]}}`, 400, "schedule.days[0]"},
		{"campaign dates reversed", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "hi"}, "schedule": {"start_at": "2026-12-01T00:00:00Z", "end_at": "2026-11-01T00:00:00Z"}}`, 400, "after start_at"},
		{"campaign dwell without minutes", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "hi"}, "trigger": {"kind": "dwell"}}`, 400, "dwell_minutes"},
		{"campaign bad trigger", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "hi"}, "trigger": {"kind": "exit"}}`, 400, "trigger.kind"},
		{"campaign negative cap", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "hi"}, "cap": {"per_user": -1}}`, 400, "negative"},
		{"campaign influence", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "hi"}, "audience": {"min_influence": 101}}`, 400, "min_influence"},
		{"campaign ok", "POST", "/api/v1/campaigns", `{"name": "c", "fences": [1], "offer": {"template": "Hi {{name}}, {{code}} at {{store}}", "code": "W"}}`, 201, ""},
		{"consent without proof", "PUT", "/api/v1/consents/foursquare/u1", `{"granted": true, "channel": "web form"}`, 400, "proof: required"},
		{"consent without channel", "PUT", "/api/v1/consents/foursquare/u1", `{"granted": true, "proof": "x"}`, 400, "channel: required"},
		{"consent bad source", "PUT", "/api/v1/consents/Four%20Square/u1", `{"granted": true, "channel": "web form", "proof": "x"}`, 400, "source"},
		{"consent bad zone", "PUT", "/api/v1/consents/foursquare/u1", `{"granted": true, "channel": "web form", "proof": "x", "time_zone": "Nowhere"}`, 400, "time_zone"},
		{"consent missing", "GET", "/api/v1/consents/foursquare/nobody", ``, 404, "not found"},
		{"consent delete with granted", "DELETE", "/api/v1/consents/foursquare/u1", `{"granted": true}`, 400, "use PUT"},
		{"offers bad status", "GET", "/api/v1/offers?status=maybe", ``, 400, "status"},
		{"offers bad reason", "GET", "/api/v1/offers?reason=moon", ``, 400, "no_consent"},
		{"offers bad limit", "GET", "/api/v1/offers?limit=0", ``, 400, "limit"},
		{"offers limit too big", "GET", "/api/v1/offers?limit=501", ``, 400, "1-500"},
		{"offers bad cursor", "GET", "/api/v1/offers?cursor=zz", ``, 400, "cursor"},
		{"offer missing", "GET", "/api/v1/offers/5", ``, 404, "not found"},
		{"body too large", "POST", "/api/v1/geofences", `{"name": "` + strings.Repeat("a", maxBodyBytes) + `"}`, 413, "larger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, ec, tt.method, tt.path, tt.body)
			if r.code != tt.code {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.code, r.raw, tt.code)
			}
			if msg, _ := r.body["error"].(string); !strings.Contains(msg, tt.want) {
				t.Errorf("error = %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

func TestAPIFlow(t *testing.T) {
	t.Parallel()
	clk := &clock{t: monday10}
	e := openEngine(t, Config{Now: clk.Now, GatewaySecret: testSecret}, nil, nil)
	ec := apiServer(t, e)

	r := do(t, ec, "POST", "/api/v1/geofences", fenceJSON)
	if r.code != 201 || r.body["id"] != 1.0 {
		t.Fatalf("create fence = %d %s", r.code, r.raw)
	}
	upd := strings.Replace(fenceJSON, "Velora Flatiron", "Velora 5th Ave", 1)
	if r = do(t, ec, "PUT", "/api/v1/geofences/1", upd); r.code != 200 || r.body["name"] != "Velora 5th Ave" {
		t.Fatalf("update fence = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "GET", "/api/v1/geofences", ""); r.code != 200 || len(r.body["fences"].([]any)) != 1 {
		t.Fatalf("list fences = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "POST", "/api/v1/campaigns", `{"name": "w", "fence_tags": ["nyc"], "offer": {"template": "Hi {{name}}"}}`); r.code != 201 {
		t.Fatalf("create campaign = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "GET", "/api/v1/campaigns/1", ""); r.code != 200 || r.body["trigger"].(map[string]any)["kind"] != "enter" {
		t.Fatalf("get campaign = %d %s", r.code, r.raw)
	}

	// Consent: grant, withdraw, grant again; the history keeps all three.
	if r = do(t, ec, "PUT", "/api/v1/consents/foursquare/a", `{"granted": true, "channel": "web form", "proof": "form 42 from 203.0.113.9"}`); r.code != 200 || r.body["granted"] != true {
		t.Fatalf("grant = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "DELETE", "/api/v1/consents/foursquare/a", `{"channel": "sms keyword", "proof": "STOP"}`); r.code != 200 || r.body["granted"] != false || r.body["withdrawn_at"] == nil {
		t.Fatalf("withdraw = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "DELETE", "/api/v1/consents/foursquare/b", ""); r.code != 200 || r.body["granted"] != false {
		t.Fatalf("withdraw without a body = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "PUT", "/api/v1/consents/foursquare/a", `{"granted": true, "channel": "sms keyword", "proof": "JOIN"}`); r.code != 200 {
		t.Fatalf("grant again = %d %s", r.code, r.raw)
	}
	r = do(t, ec, "GET", "/api/v1/consents/foursquare/a", "")
	hist, _ := r.body["history"].([]any)
	if r.code != 200 || len(hist) != 3 || hist[1].(map[string]any)["proof"] != "STOP" || hist[0].(map[string]any)["by"] != "maria" {
		t.Fatalf("consent with history = %d %s", r.code, r.raw)
	}

	// Decisions: a (consented) gets an offer, b (withdrawn) and c (never) do not.
	if err := e.process(context.Background(), records(1,
		checkIn("c1", "a", monday10, inLat, inLon), checkIn("c2", "b", monday10, inLat, inLon), checkIn("c3", "c", monday10, inLat, inLon))); err != nil {
		t.Fatal(err)
	}
	r = do(t, ec, "GET", "/api/v1/offers?status=sent", "")
	offers, _ := r.body["offers"].([]any)
	if r.code != 200 || len(offers) != 1 || offers[0].(map[string]any)["text"] != "Hi @a" {
		t.Fatalf("sent offers = %d %s", r.code, r.raw)
	}
	id := int64(offers[0].(map[string]any)["id"].(float64))
	if r = do(t, ec, "GET", "/api/v1/offers?reason=consent_withdrawn", ""); len(r.body["offers"].([]any)) != 1 {
		t.Fatalf("withdrawn = %s", r.raw)
	}
	// Paging: one at a time, newest first, until the cursor runs out.
	var seen []string
	for cursor := ""; ; {
		r = do(t, ec, "GET", "/api/v1/offers?limit=1&cursor="+cursor, "")
		for _, o := range r.body["offers"].([]any) {
			m := o.(map[string]any)
			seen = append(seen, fmt.Sprint(m["user_id"], ":", m["status"], m["reason"]))
		}
		next, _ := r.body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if got := strings.Join(seen, ","); got != "c:skippedno_consent,b:skippedconsent_withdrawn,a:sent<nil>" {
		t.Errorf("pages = %s", got)
	}

	// The person's profile.
	r = do(t, ec, "GET", "/api/v1/authors/foursquare/a/offers", "")
	if r.code != 200 || r.body["consent"] == nil || len(r.body["offers"].([]any)) != 1 {
		t.Fatalf("profile = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "GET", "/api/v1/authors/foursquare/c/offers", ""); r.body["consent"] != nil || r.body["skipped"].(map[string]any)["no_consent"] != 1.0 {
		t.Fatalf("profile without consent = %s", r.raw)
	}

	// Redemption, signed by the gateway.
	redeem := func(offer int64, body string, ts time.Time, secret string) response {
		return do(t, ec, "POST", "/api/v1/offers/"+strconv.FormatInt(offer, 10)+"/redeemed", body,
			HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10), HeaderSignature, Sign([]byte(secret), ts, []byte(body)))
	}
	body := fmt.Sprintf(`{"offer_id": %d, "reference": "till 3"}`, id)
	if r = redeem(id, body, monday10, "wrong-secret-0123456789"); r.code != 401 {
		t.Fatalf("redeem with a bad signature = %d %s", r.code, r.raw)
	}
	if r = redeem(id, body, monday10.Add(-time.Hour), testSecret); r.code != 401 {
		t.Fatalf("redeem replayed an hour later = %d %s", r.code, r.raw)
	}
	if r = redeem(id+1, body, monday10, testSecret); r.code != 400 {
		t.Fatalf("redeem a signed body on another offer's path = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "POST", "/api/v1/offers/1/redeemed", body); r.code != 401 {
		t.Fatalf("redeem unsigned = %d %s", r.code, r.raw)
	}
	if r = redeem(id, body, monday10, testSecret); r.code != 200 || r.body["redeemed_at"] == nil {
		t.Fatalf("redeem = %d %s", r.code, r.raw)
	}
	first := r.body["redeemed_at"]
	clk.Set(monday10.Add(time.Minute))
	if r = redeem(id, body, monday10.Add(time.Minute), testSecret); r.code != 200 || r.body["redeemed_at"] != first {
		t.Fatalf("redeem twice = %d %s, want the first time kept", r.code, r.raw)
	}
	skippedID := id + 1
	sb := fmt.Sprintf(`{"offer_id": %d}`, skippedID)
	if r = redeem(skippedID, sb, monday10.Add(time.Minute), testSecret); r.code != 404 {
		t.Fatalf("redeem a skipped decision = %d %s", r.code, r.raw)
	}

	if r = do(t, ec, "DELETE", "/api/v1/campaigns/1", ""); r.code != 204 {
		t.Fatalf("delete campaign = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "DELETE", "/api/v1/geofences/1", ""); r.code != 204 {
		t.Fatalf("delete fence = %d %s", r.code, r.raw)
	}
	if r = do(t, ec, "GET", "/api/v1/geofences/1", ""); r.code != 404 {
		t.Fatalf("deleted fence = %d", r.code)
	}
}
