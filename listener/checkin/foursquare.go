package checkin

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigie/vigie/listener"
)

// FoursquareConfig configures a Foursquare push receiver.
type FoursquareConfig struct {
	// PushSecret is the app's push secret. Required.
	PushSecret string `yaml:"-"`
	// Source names the source of the check-ins (default "foursquare").
	Source string `yaml:"source"`
	// MaxBodyBytes bounds a delivery (default DefaultMaxBodyBytes).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Validate fills the defaults and checks the configuration.
func (c *FoursquareConfig) Validate() error {
	if c.PushSecret == "" {
		return errors.New("foursquare: push secret required")
	}
	if c.Source == "" {
		c.Source = "foursquare"
	}
	return nil
}

// NewFoursquare returns a Foursquare push receiver.
func NewFoursquare(cfg FoursquareConfig, deps Deps) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newHandler("foursquare", &foursquare{cfg: cfg}, cfg.MaxBodyBytes, deps)
}

type foursquare struct{ cfg FoursquareConfig }

// FoursquarePush is a push delivery's fields, raw.
type FoursquarePush struct {
	CheckIn json.RawMessage
	User    json.RawMessage
	Secret  string
}

// ReadFoursquarePush reads a push body, form-encoded or JSON (what
// contentType says; a body starting with '{' is JSON). The check-in and user
// may be JSON values or strings holding JSON.
func ReadFoursquarePush(contentType string, body []byte) (FoursquarePush, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(body)
	if mt == "application/json" || (mt != "application/x-www-form-urlencoded" && len(trimmed) > 0 && trimmed[0] == '{') {
		var w struct {
			CheckIn json.RawMessage `json:"checkin"`
			User    json.RawMessage `json:"user"`
			Secret  string          `json:"secret"`
		}
		if err := json.Unmarshal(trimmed, &w); err != nil {
			return FoursquarePush{}, fmt.Errorf("foursquare push: %w", err)
		}
		return FoursquarePush{CheckIn: unquote(w.CheckIn), User: unquote(w.User), Secret: w.Secret}, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return FoursquarePush{}, fmt.Errorf("foursquare push: form: %w", err)
	}
	p := FoursquarePush{Secret: form.Get("secret")}
	if v := form.Get("checkin"); v != "" {
		p.CheckIn = json.RawMessage(v)
	}
	if v := form.Get("user"); v != "" {
		p.User = json.RawMessage(v)
	}
	return p, nil
}

// unquote turns a JSON string holding JSON into that JSON.
func unquote(raw json.RawMessage) json.RawMessage {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return json.RawMessage(s)
	}
	return raw
}

func (f *foursquare) authenticate(r *http.Request, body []byte, _ time.Time) error {
	p, err := ReadFoursquarePush(r.Header.Get("Content-Type"), body)
	if err != nil {
		return refuse(http.StatusBadRequest, "bad_payload", "%w", err)
	}
	if p.Secret == "" {
		return refuse(http.StatusUnauthorized, "unsigned", "push without a secret")
	}
	if subtle.ConstantTimeCompare([]byte(p.Secret), []byte(f.cfg.PushSecret)) != 1 {
		return refuse(http.StatusForbidden, "bad_signature", "wrong push secret")
	}
	return nil
}

func (f *foursquare) parse(r *http.Request, body []byte, _ time.Time) ([]listener.Item, map[string]int, error) {
	p, err := ReadFoursquarePush(r.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, "bad_payload", "%w", err)
	}
	if len(p.CheckIn) == 0 {
		// Venue push also sends likes, tips and photos: nothing to keep.
		return nil, map[string]int{"not_checkin": 1}, nil
	}
	c, err := ParseFoursquare(p.CheckIn, p.User, f.cfg.Source)
	if errors.Is(err, errNoLocation) {
		return nil, map[string]int{"no_location": 1}, nil
	}
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, "bad_payload", "%w", err)
	}
	return []listener.Item{listener.CheckInItem(c)}, nil, nil
}

var errNoLocation = errors.New("no coordinates")

type fsqCheckIn struct {
	ID        string `json:"id"`
	CreatedAt int64  `json:"createdAt"`
	Type      string `json:"type"`
	Venue     *struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Location struct {
			Lat *float64 `json:"lat"`
			Lng *float64 `json:"lng"`
		} `json:"location"`
	} `json:"venue"`
	Location *struct { // a check-in without a venue
		Lat *float64 `json:"lat"`
		Lng *float64 `json:"lng"`
	} `json:"location"`
	User *fsqUser `json:"user"`
}

type fsqUser struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName"`
}

// ParseFoursquare turns a pushed check-in (and the user pushed beside it,
// when the check-in does not carry one) into a CheckIn filed under source.
// Only the user's id and first name are kept.
func ParseFoursquare(checkin, user json.RawMessage, source string) (listener.CheckIn, error) {
	var c fsqCheckIn
	if err := json.Unmarshal(checkin, &c); err != nil {
		return listener.CheckIn{}, fmt.Errorf("foursquare check-in: %w", err)
	}
	if c.ID == "" {
		return listener.CheckIn{}, errors.New("foursquare check-in: no id")
	}
	if c.Type != "" && c.Type != "checkin" {
		return listener.CheckIn{}, fmt.Errorf("foursquare check-in: type %q", c.Type)
	}
	u := c.User
	if u == nil && len(user) > 0 {
		u = &fsqUser{}
		if err := json.Unmarshal(user, u); err != nil {
			return listener.CheckIn{}, fmt.Errorf("foursquare user: %w", err)
		}
	}
	if u == nil || u.ID == "" {
		return listener.CheckIn{}, errors.New("foursquare check-in: no user id")
	}
	out := listener.CheckIn{Source: source, ID: c.ID, User: listener.CheckInUser{ID: u.ID, Handle: strings.TrimSpace(u.FirstName)}}
	out.CreatedAt = time.Now().UTC()
	if c.CreatedAt > 0 {
		out.CreatedAt = time.Unix(c.CreatedAt, 0).UTC()
	}
	var lat, lng *float64
	if c.Venue != nil {
		lat, lng = c.Venue.Location.Lat, c.Venue.Location.Lng
		if c.Venue.ID != "" || c.Venue.Name != "" {
			out.Venue = &listener.Venue{ID: c.Venue.ID, Name: c.Venue.Name}
		}
	}
	if (lat == nil || lng == nil) && c.Location != nil {
		lat, lng = c.Location.Lat, c.Location.Lng
	}
	if lat == nil || lng == nil {
		return listener.CheckIn{}, errNoLocation
	}
	out.Lat, out.Lon = *lat, *lng
	return out, nil
}
