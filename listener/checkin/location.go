package checkin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigie/vigie/listener"
)

// DefaultTolerance is how far a webhook-timestamp may be from now: Standard
// Webhooks' 5 minutes, against replays.
const DefaultTolerance = 5 * time.Minute

// LocationConfig configures the generic signed location webhook.
type LocationConfig struct {
	// Secret keys the signatures. A "whsec_" prefix means the rest is the
	// base64 key, as Standard Webhooks libraries write it; otherwise the
	// bytes are the key. Required. Several secrets (a key rotation) are
	// given space-separated.
	Secret string `yaml:"-"`
	// Source names the source of the check-ins. Required (the factory sets
	// it to the source's name).
	Source string `yaml:"source"`
	// Tolerance bounds the clock skew accepted (default DefaultTolerance).
	Tolerance time.Duration `yaml:"tolerance"`
	// MaxBodyBytes bounds a delivery (default DefaultMaxBodyBytes).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Validate fills the defaults and checks the configuration.
func (c *LocationConfig) Validate() error {
	if strings.TrimSpace(c.Secret) == "" {
		return errors.New("location webhook: secret required")
	}
	for _, s := range strings.Fields(c.Secret) {
		if _, err := secretKey(s); err != nil {
			return fmt.Errorf("location webhook: %w", err)
		}
	}
	if c.Source == "" {
		return errors.New("location webhook: source required")
	}
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	if c.Tolerance < 0 {
		return fmt.Errorf("location webhook: tolerance %v must be positive", c.Tolerance)
	}
	return nil
}

func secretKey(s string) ([]byte, error) {
	if b64, ok := strings.CutPrefix(s, "whsec_"); ok {
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) == 0 {
			return nil, errors.New("a whsec_ secret must be followed by base64")
		}
		return key, nil
	}
	return []byte(s), nil
}

// NewLocation returns a generic location webhook receiver.
func NewLocation(cfg LocationConfig, deps Deps) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &location{cfg: cfg}
	for _, s := range strings.Fields(cfg.Secret) {
		k, _ := secretKey(s)
		l.keys = append(l.keys, k)
	}
	return newHandler("location", l, cfg.MaxBodyBytes, deps)
}

type location struct {
	cfg  LocationConfig
	keys [][]byte
}

// SignLocation returns the webhook-signature value for a delivery, signed
// with secret (Standard Webhooks "v1," scheme).
func SignLocation(secret, id string, ts int64, body []byte) string {
	key, err := secretKey(secret)
	if err != nil {
		key = []byte(secret)
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts, body))
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.", id, ts)
	m.Write(body)
	return m.Sum(nil)
}

func (l *location) authenticate(r *http.Request, body []byte, now time.Time) error {
	id, tsText, sigs := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return refuse(http.StatusUnauthorized, "unsigned", "delivery without webhook-id, webhook-timestamp and webhook-signature")
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return refuse(http.StatusBadRequest, "bad_signature", "webhook-timestamp %q: not Unix seconds", tsText)
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > l.cfg.Tolerance || skew < -l.cfg.Tolerance {
		return refuse(http.StatusUnauthorized, "expired", "webhook-timestamp is %v away from now (tolerance %v)", skew.Round(time.Second), l.cfg.Tolerance)
	}
	for _, key := range l.keys {
		want := mac(key, id, ts, body)
		for _, s := range strings.Fields(sigs) {
			v, b64, ok := strings.Cut(s, ",")
			if !ok || v != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return refuse(http.StatusForbidden, "bad_signature", "no valid v1 signature")
}

// LocationEvent is the body of a location webhook.
type LocationEvent struct {
	Type       string `json:"type"`
	OccurredAt string `json:"occurred_at"`
	Subject    struct {
		ID      string `json:"id"`
		Consent struct {
			Location bool `json:"location"`
		} `json:"consent"`
	} `json:"subject"`
	Location *struct {
		Lat       *float64 `json:"lat"`
		Lng       *float64 `json:"lng"`
		AccuracyM float64  `json:"accuracy_m"`
	} `json:"location"`
	Venue *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"venue"`
	Source string `json:"source"`
}

// ErrNoConsent is returned for a location event whose subject has not
// consented to location use.
var ErrNoConsent = errors.New("the subject has not consented to location use")

// ParseLocation reads a location webhook body delivered with webhook-id id.
// geo.ping, geo.enter and checkin events become a CheckIn (id as its id, so
// that a redelivery is a duplicate); geo.exit and pos.purchase return a
// nil item. fallback stamps an event without occurred_at.
func ParseLocation(body []byte, id, source string, fallback time.Time) (*listener.CheckIn, error) {
	var e LocationEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("location event: %w", err)
	}
	switch e.Type {
	case "geo.ping", "geo.enter", "checkin":
	case "geo.exit", "pos.purchase":
		return nil, nil
	default:
		return nil, fmt.Errorf("location event: type %q is not geo.ping, geo.enter, geo.exit, checkin or pos.purchase", e.Type)
	}
	if e.Subject.ID == "" {
		return nil, errors.New("location event: subject.id required")
	}
	if !e.Subject.Consent.Location {
		return nil, ErrNoConsent
	}
	if e.Location == nil || e.Location.Lat == nil || e.Location.Lng == nil {
		return nil, errors.New("location event: location.lat and location.lng required")
	}
	c := &listener.CheckIn{Source: source, ID: id, User: listener.CheckInUser{ID: e.Subject.ID},
		Lat: *e.Location.Lat, Lon: *e.Location.Lng, CreatedAt: fallback.UTC()}
	if e.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, e.OccurredAt)
		if err != nil {
			return nil, fmt.Errorf("location event: occurred_at %q: not RFC 3339", e.OccurredAt)
		}
		c.CreatedAt = t.UTC()
	}
	if e.Venue != nil && (e.Venue.ID != "" || e.Venue.Name != "") {
		c.Venue = &listener.Venue{ID: e.Venue.ID, Name: e.Venue.Name}
	}
	return c, nil
}

func (l *location) parse(r *http.Request, body []byte, now time.Time) ([]listener.Item, map[string]int, error) {
	c, err := ParseLocation(body, r.Header.Get("webhook-id"), l.cfg.Source, now)
	switch {
	case errors.Is(err, ErrNoConsent):
		return nil, nil, refuse(http.StatusUnprocessableEntity, "no_consent", "%w", err)
	case err != nil:
		return nil, nil, refuse(http.StatusBadRequest, "bad_payload", "%w", err)
	case c == nil:
		return nil, map[string]int{"type": 1}, nil
	}
	return []listener.Item{listener.CheckInItem(*c)}, nil, nil
}
