package checkin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/checkin"
	"github.com/vigie/vigie/listener/checkin/checkintest"
	"github.com/vigie/vigie/listener/sources"
	"github.com/vigie/vigie/listener/sources/sourcestest"
)

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestFoursquare(t *testing.T) {
	t.Parallel()
	log := sourcestest.NewLog()
	health := &sourcestest.Health{}
	h, err := checkin.NewFoursquare(checkin.FoursquareConfig{PushSecret: "push-secret"}, checkin.Deps{Append: log, Health: health, Metrics: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, h)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		checkin []byte
		secret  string
		want    int
	}{
		{"good", checkintest.FoursquareCheckIn("c-1", "u-9", 40.7411, -73.9897, at), "push-secret", 200},
		{"redelivered", checkintest.FoursquareCheckIn("c-1", "u-9", 40.7411, -73.9897, at), "push-secret", 200},
		{"wrong secret", checkintest.FoursquareCheckIn("c-2", "u-9", 40, -73, at), "nope", 403},
		{"no secret", checkintest.FoursquareCheckIn("c-3", "u-9", 40, -73, at), "", 401},
		{"not JSON", []byte("{oops"), "push-secret", 400},
		{"out of range", checkintest.FoursquareCheckIn("c-4", "u-9", 140, -73, at), "push-secret", 200}, // skipped as invalid
	}
	for _, tt := range tests {
		resp, err := checkintest.PushFoursquare(ctx, url, tt.checkin, tt.secret)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != tt.want {
			t.Errorf("%s: status %d (%s), want %d", tt.name, resp.Status, resp.Body, tt.want)
		}
	}
	// The JSON body Home Assistant's integration expects works too.
	body := `{"secret":"push-secret","checkin":` + string(checkintest.FoursquareCheckIn("c-5", "u-8", 48.85, 2.35, at)) + `}`
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("JSON push: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	items := log.Items()
	if len(items) != 2 {
		t.Fatalf("got %d check-ins, want 2: %+v", len(items), items)
	}
	c := items[0].CheckIn
	want := listener.CheckIn{Source: "foursquare", ID: "c-1", CreatedAt: at, User: listener.CheckInUser{ID: "u-9", Handle: "Ana"}, Lat: 40.7411, Lon: -73.9897, Venue: &listener.Venue{ID: "v-c-1", Name: "Flatiron"}}
	if c.Source != want.Source || c.ID != want.ID || !c.CreatedAt.Equal(at) || c.User != want.User || c.Lat != want.Lat || c.Lon != want.Lon || *c.Venue != *want.Venue {
		t.Errorf("check-in %+v, want %+v", c, want)
	}
	if _, errs, received := health.Snapshot(); len(errs) != 3 || received != 3 {
		t.Errorf("health: %d errors (want 3 refusals), %d received (want 3 appended)", len(errs), received)
	}
}

func TestRadar(t *testing.T) {
	t.Parallel()
	log := sourcestest.NewLog()
	h, err := checkin.NewRadar(checkin.RadarConfig{Token: "radar-token"}, checkin.Deps{Append: log})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, h)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	enter := checkintest.RadarEvent("e-1", "user.entered_geofence", 45.7606, 4.8593, at)
	exit := checkintest.RadarEvent("e-2", "user.exited_geofence", 45.7606, 4.8593, at)
	place := checkintest.RadarEvent("e-3", "user.entered_place", 45.76, 4.86, at)

	if r, _ := checkintest.PostRadar(ctx, url, "radar-token", "sign-1", enter); r.Status != 200 {
		t.Fatalf("single event: %+v", r)
	}
	if r, _ := checkintest.PostRadar(ctx, url, "radar-token", "sign-2", exit, place); r.Status != 200 || !strings.Contains(r.Body, `"accepted":1`) {
		t.Fatalf("batch: %+v", r)
	}
	if r, _ := checkintest.PostRadar(ctx, url, "wrong-token", "sign-3", place); r.Status != 403 {
		t.Fatalf("bad signature: %+v", r)
	}
	if r, _ := checkintest.PostRadar(ctx, url, "", "", place); r.Status != 401 {
		t.Fatalf("unsigned: %+v", r)
	}
	items := log.Items()
	if len(items) != 2 {
		t.Fatalf("got %d check-ins, want 2", len(items))
	}
	c := items[0].CheckIn
	if c.ID != "e-1" || c.Source != "radar" || c.User.ID != "crm-77" || c.Lat != 45.7606 || c.Lon != 4.8593 || c.Venue.ID != "store-42" || !c.CreatedAt.Equal(at) {
		t.Errorf("check-in (coordinates come [lng, lat]): %+v", c)
	}
}

func TestLocationWebhook(t *testing.T) {
	t.Parallel()
	log := sourcestest.NewLog()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const secret = "whsec_c2VjcmV0LWtleS1ieXRlcw=="
	h, err := checkin.NewLocation(checkin.LocationConfig{Secret: "old-secret " + secret, Source: "store-app"},
		checkin.Deps{Append: log, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, h)
	ctx := context.Background()
	body := checkintest.LocationBody("geo.enter", "p-123", true, 45.76, 4.86, now.Add(-time.Minute))
	tests := []struct {
		name   string
		secret string
		id     string
		ts     time.Time
		body   []byte
		want   int
	}{
		{"good", secret, "msg-1", now, body, 200},
		{"old key during rotation", "old-secret", "msg-2", now.Add(-4 * time.Minute), body, 200},
		{"redelivery", secret, "msg-1", now, body, 200},
		{"bad signature", "whsec_b3RoZXI=", "msg-3", now, body, 403},
		{"expired", secret, "msg-4", now.Add(-6 * time.Minute), body, 401},
		{"from the future", secret, "msg-5", now.Add(6 * time.Minute), body, 401},
		{"no consent", secret, "msg-6", now, checkintest.LocationBody("geo.ping", "p-124", false, 45.76, 4.86, now), 422},
		{"exit kept out", secret, "msg-7", now, checkintest.LocationBody("geo.exit", "p-123", true, 45.76, 4.86, now), 200},
		{"bad type", secret, "msg-8", now, checkintest.LocationBody("geo.teleport", "p-123", true, 45.76, 4.86, now), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := checkintest.PostLocation(ctx, url, tt.secret, tt.id, tt.ts, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.want {
				t.Fatalf("status %d (%s), want %d", r.Status, r.Body, tt.want)
			}
		})
	}
	// A tampered body fails the signature made for the original.
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(strings.Replace(string(body), "p-123", "p-999", 1)))
	req.Header.Set("webhook-id", "msg-9")
	req.Header.Set("webhook-timestamp", "1795341600")
	req.Header.Set("webhook-signature", checkin.SignLocation(secret, "msg-9", 1795341600, body))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("tampered body: %v %v", resp.StatusCode, err)
	}
	items := log.Items()
	if len(items) != 2 {
		t.Fatalf("got %d check-ins, want 2 (msg-1 and msg-2)", len(items))
	}
	if c := items[0].CheckIn; c.ID != "msg-1" || c.Source != "store-app" || c.User.ID != "p-123" || c.Venue.Name != "Velora Lyon" || !c.CreatedAt.Equal(now.Add(-time.Minute)) {
		t.Errorf("check-in: %+v", c)
	}
}

func TestAppendFailureAnswers503(t *testing.T) {
	t.Parallel()
	log := sourcestest.NewLog()
	log.FailNext(1)
	h, _ := checkin.NewRadar(checkin.RadarConfig{Token: "t"}, checkin.Deps{Append: log})
	url := serve(t, h)
	ev := checkintest.RadarEvent("e-1", "user.entered_geofence", 45, 4, time.Now())
	if r, _ := checkintest.PostRadar(context.Background(), url, "t", "s", ev); r.Status != 503 {
		t.Fatalf("status %d, want 503 while the log fails", r.Status)
	}
	if r, _ := checkintest.PostRadar(context.Background(), url, "t", "s", ev); r.Status != 200 {
		t.Fatalf("status %d on retry, want 200", r.Status)
	}
}

func TestFactories(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	for _, tt := range []struct {
		typ     string
		f       sources.Factory
		secrets map[string]string
	}{
		{"foursquare", checkin.FoursquareFactory, map[string]string{"push_secret": "s"}},
		{"radar", checkin.RadarFactory, map[string]string{"token": "s"}},
		{"location-webhook", checkin.LocationFactory, map[string]string{"secret": "s"}},
	} {
		sc, _ := sources.NewSourceConfig(tt.typ, "n-"+strings.ReplaceAll(tt.typ, "-", ""), "", tt.secrets)
		inst, err := tt.f(sc, sources.Deps{Append: sourcestest.NewLog(), Metrics: reg})
		if err != nil || inst.Hook == nil {
			t.Fatalf("%s: %+v %v", tt.typ, inst, err)
		}
		sc, _ = sources.NewSourceConfig(tt.typ, "x", "", nil)
		if _, err := tt.f(sc, sources.Deps{Append: sourcestest.NewLog()}); err == nil {
			t.Fatalf("%s without its secret: no error", tt.typ)
		}
	}
}

func FuzzParseFoursquare(f *testing.F) {
	f.Add([]byte(checkintest.FoursquareCheckIn("c", "u", 1, 2, time.Unix(1, 0))), []byte(`{"id":"u"}`))
	f.Add([]byte(`{"id":"c","location":{"lat":1,"lng":2}}`), []byte(`"{\"id\":\"u\"}"`))
	f.Fuzz(func(t *testing.T, c, u []byte) {
		ci, err := checkin.ParseFoursquare(c, u, "foursquare")
		if err == nil {
			_ = sources.CheckItem(listener.CheckInItem(ci)) // must not panic
		}
		_, _ = checkin.ReadFoursquarePush("application/x-www-form-urlencoded", c)
	})
}

func FuzzParseRadar(f *testing.F) {
	f.Add([]byte(`{"event":{"_id":"e","type":"user.entered_geofence","createdAt":"2026-01-01T00:00:00Z","location":{"coordinates":[4.8,45.7]}},"user":{"userId":"u"}}`))
	f.Add([]byte(`{"events":[{"_id":"e","type":"user.entered_place","place":{"_id":"p"}}],"user":{}}`))
	keep := map[string]bool{"user.entered_geofence": true, "user.entered_place": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		items, _, err := checkin.ParseRadar(body, "radar", keep)
		if err != nil && items != nil {
			t.Fatal("items with an error")
		}
		for _, it := range items {
			if it.CheckIn == nil || it.CheckIn.ID == "" || it.CheckIn.User.ID == "" {
				t.Fatalf("incomplete check-in %+v", it.CheckIn)
			}
		}
	})
}

func FuzzParseLocation(f *testing.F) {
	f.Add(checkintest.LocationBody("geo.ping", "p", true, 1, 2, time.Unix(0, 0)))
	f.Add([]byte(`{"type":"checkin","subject":{"id":"p","consent":{"location":true}},"location":{"lat":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := checkin.ParseLocation(body, "id", "app", time.Unix(0, 0))
		if err != nil && c != nil {
			t.Fatal("a check-in with an error")
		}
		if errors.Is(err, checkin.ErrNoConsent) && c != nil {
			t.Fatal("a check-in without consent")
		}
	})
}
