package checkin

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vigie/vigie/listener"
)

// DefaultRadarEvents are the Radar event types kept as check-ins: arriving
// at, or staying in, a geofence or a place.
var DefaultRadarEvents = []string{"user.entered_geofence", "user.dwelled_in_geofence", "user.entered_place"}

// RadarConfig configures a Radar webhook receiver.
type RadarConfig struct {
	// Token is the webhook token that keys the signature. Required.
	Token string `yaml:"-"`
	// Source names the source of the check-ins (default "radar").
	Source string `yaml:"source"`
	// Events lists the event types kept (default DefaultRadarEvents).
	Events []string `yaml:"events"`
	// MaxBodyBytes bounds a delivery (default DefaultMaxBodyBytes).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Validate fills the defaults and checks the configuration.
func (c *RadarConfig) Validate() error {
	if c.Token == "" {
		return errors.New("radar: webhook token required")
	}
	if c.Source == "" {
		c.Source = "radar"
	}
	if len(c.Events) == 0 {
		c.Events = DefaultRadarEvents
	}
	return nil
}

// NewRadar returns a Radar webhook receiver.
func NewRadar(cfg RadarConfig, deps Deps) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, e := range cfg.Events {
		keep[e] = true
	}
	return newHandler("radar", &radar{cfg: cfg, keep: keep}, cfg.MaxBodyBytes, deps)
}

type radar struct {
	cfg  RadarConfig
	keep map[string]bool
}

// RadarSignature returns the X-Radar-Signature value for a signing id.
func RadarSignature(token, signingID string) string {
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(signingID))
	return hex.EncodeToString(mac.Sum(nil))
}

func (rd *radar) authenticate(r *http.Request, _ []byte, _ time.Time) error {
	id, sig := r.Header.Get("X-Radar-Signing-Id"), r.Header.Get("X-Radar-Signature")
	if id == "" || sig == "" {
		return refuse(http.StatusUnauthorized, "unsigned", "delivery without X-Radar-Signing-Id and X-Radar-Signature")
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mustHex(RadarSignature(rd.cfg.Token, id))) {
		return refuse(http.StatusForbidden, "bad_signature", "bad X-Radar-Signature")
	}
	return nil
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

func (rd *radar) parse(_ *http.Request, body []byte, _ time.Time) ([]listener.Item, map[string]int, error) {
	items, skipped, err := ParseRadar(body, rd.cfg.Source, rd.keep)
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, "bad_payload", "%w", err)
	}
	return items, skipped, nil
}

type radarEvent struct {
	ID              string `json:"_id"`
	Type            string `json:"type"`
	CreatedAt       string `json:"createdAt"`
	ActualCreatedAt string `json:"actualCreatedAt"`
	Location        *struct {
		Type        string    `json:"type"`
		Coordinates []float64 `json:"coordinates"`
	} `json:"location"`
	Geofence *struct {
		ID          string `json:"_id"`
		ExternalID  string `json:"externalId"`
		Description string `json:"description"`
	} `json:"geofence"`
	Place *struct {
		ID   string `json:"_id"`
		Name string `json:"name"`
	} `json:"place"`
	User *radarUser `json:"user"`
}

type radarUser struct {
	ID     string `json:"_id"`
	UserID string `json:"userId"`
}

// ParseRadar reads a Radar webhook body, single ({"event","user"}) or batch
// ({"events","user"}), and returns the events whose type keep holds as
// check-ins filed under source. The user is your own userId when Radar has
// one, else Radar's id.
func ParseRadar(body []byte, source string, keep map[string]bool) ([]listener.Item, map[string]int, error) {
	var w struct {
		Event  *radarEvent  `json:"event"`
		Events []radarEvent `json:"events"`
		User   *radarUser   `json:"user"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, nil, fmt.Errorf("radar webhook: %w", err)
	}
	events := w.Events
	if w.Event != nil {
		events = append(events, *w.Event)
	}
	if len(events) == 0 {
		return nil, nil, errors.New("radar webhook: no event")
	}
	var (
		items   []listener.Item
		skipped = map[string]int{}
	)
	for _, e := range events {
		if !keep[e.Type] {
			skipped["type"]++
			continue
		}
		u := e.User
		if u == nil {
			u = w.User
		}
		if e.ID == "" || u == nil || (u.UserID == "" && u.ID == "") {
			skipped["malformed"]++
			continue
		}
		if e.Location == nil || len(e.Location.Coordinates) != 2 {
			skipped["no_location"]++
			continue
		}
		c := listener.CheckIn{Source: source, ID: e.ID, User: listener.CheckInUser{ID: u.UserID},
			Lon: e.Location.Coordinates[0], Lat: e.Location.Coordinates[1]} // GeoJSON order: [lng, lat]
		if c.User.ID == "" {
			c.User.ID = u.ID
		}
		for _, s := range []string{e.ActualCreatedAt, e.CreatedAt} {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				c.CreatedAt = t.UTC()
				break
			}
		}
		if c.CreatedAt.IsZero() {
			skipped["malformed"]++
			continue
		}
		switch {
		case e.Geofence != nil:
			id := e.Geofence.ExternalID
			if id == "" {
				id = e.Geofence.ID
			}
			c.Venue = &listener.Venue{ID: id, Name: e.Geofence.Description}
		case e.Place != nil:
			c.Venue = &listener.Venue{ID: e.Place.ID, Name: e.Place.Name}
		}
		items = append(items, listener.CheckInItem(c))
	}
	return items, skipped, nil
}
