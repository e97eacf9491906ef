// Package checkintest sends check-in webhooks the way Foursquare, Radar and
// a Standard Webhooks sender do, for tests.
package checkintest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigie/vigie/listener/checkin"
)

// Response is what a receiver answered.
type Response struct {
	Status int
	Body   string
}

func send(ctx context.Context, req *http.Request) (Response, error) {
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: string(b)}, nil
}

// FoursquareCheckIn builds a pushed check-in's JSON.
func FoursquareCheckIn(id, userID string, lat, lng float64, at time.Time) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"id": id, "createdAt": at.Unix(), "type": "checkin", "timeZoneOffset": 60, "shout": "coffee",
		"venue": map[string]any{"id": "v-" + id, "name": "Flatiron", "location": map[string]any{
			"address": "1 Main St", "city": "New York", "cc": "US", "lat": lat, "lng": lng},
			"categories": []any{map[string]any{"id": "c1", "name": "Café", "primary": true}}},
		"user": map[string]any{"id": userID, "firstName": "Ana", "lastName": "Lopez"},
	})
	return b
}

// PushFoursquare POSTs a form-encoded User Push: checkin, user and secret.
func PushFoursquare(ctx context.Context, hookURL string, checkinJSON json.RawMessage, secret string) (Response, error) {
	form := url.Values{"checkin": {string(checkinJSON)}, "user": {`{"id":"u-1","firstName":"Ana"}`}}
	if secret != "" {
		form.Set("secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, hookURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(ctx, req)
}

// RadarEvent builds a Radar event. Coordinates are given lat, lng and
// written [lng, lat] as Radar does.
func RadarEvent(id, typ string, lat, lng float64, at time.Time) map[string]any {
	return map[string]any{
		"_id": id, "type": typ, "createdAt": at.Format(time.RFC3339Nano), "actualCreatedAt": at.Format(time.RFC3339Nano),
		"live": true, "confidence": 3,
		"location":         map[string]any{"type": "Point", "coordinates": []float64{lng, lat}},
		"locationAccuracy": 10,
		"geofence":         map[string]any{"_id": "g-1", "tag": "store", "externalId": "store-42", "description": "Velora Lyon Part-Dieu"},
	}
}

// PostRadar POSTs a Radar webhook: one event ({"event","user"}) or several
// ({"events","user"}), signed with token over signingID ("" token: unsigned).
func PostRadar(ctx context.Context, hookURL, token, signingID string, events ...map[string]any) (Response, error) {
	user := map[string]any{"_id": "radar-u-1", "userId": "crm-77", "deviceId": "d-1"}
	body := map[string]any{"user": user}
	if len(events) == 1 {
		body["event"] = events[0]
	} else {
		body["events"] = events
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Radar-Signing-Id", signingID)
		req.Header.Set("X-Radar-Signature", checkin.RadarSignature(token, signingID))
	}
	return send(ctx, req)
}

// LocationBody builds a location webhook body.
func LocationBody(typ, subject string, consent bool, lat, lng float64, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"type": typ, "occurred_at": at.Format(time.RFC3339),
		"subject":  map[string]any{"id": subject, "consent": map[string]bool{"location": consent}},
		"location": map[string]any{"lat": lat, "lng": lng, "accuracy_m": 12},
		"venue":    map[string]any{"id": "store-42", "name": "Velora Lyon", "categories": []string{"store"}},
		"source":   "app",
	})
	return b
}

// PostLocation POSTs a Standard Webhooks delivery signed with secret at ts.
func PostLocation(ctx context.Context, hookURL, secret, id string, ts time.Time, body []byte) (Response, error) {
	req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", "v1,bm90LXRoaXMtb25l "+checkin.SignLocation(secret, id, ts.Unix(), body))
	return send(ctx, req)
}
