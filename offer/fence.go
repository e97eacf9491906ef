package offer

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a fence or campaign may hold.
const (
	// MaxNameBytes bounds names, tags, channels and codes.
	MaxNameBytes = 200
	// MaxTags bounds the tags of a fence, campaign, audience or person.
	MaxTags = 32
)

// Fence is a store: a circle (a GeoJSON Point and RadiusM) or a polygon,
// with the time zone its opening hours are read in.
type Fence struct {
	// ID is assigned on creation.
	ID   int64    `json:"id"`
	Name string   `json:"name"`
	Tags []string `json:"tags,omitempty"`
	// Geometry is a GeoJSON Point (with RadiusM) or Polygon.
	Geometry Geometry `json:"geometry"`
	// RadiusM is a circle's radius in metres; zero for a polygon.
	RadiusM float64 `json:"radius_m,omitempty"`
	// TimeZone is an IANA zone name ("America/New_York"). Required: opening
	// hours, campaign days and (for users whose zone is unknown) quiet
	// hours are read in it.
	TimeZone string `json:"time_zone"`
	// Hours are the weekly opening hours; nil means always open.
	Hours Hours `json:"hours,omitempty"`
	// Exceptions override Hours on given dates (holidays, special hours).
	Exceptions []Exception `json:"exceptions,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`

	shape shape
	sched schedule
	loc   *time.Location
}

// compile validates f and builds its shape, schedule and location. Its
// errors wrap ErrInvalid and name the field.
func (f *Fence) compile() error {
	if err := checkName("name", f.Name, true); err != nil {
		return err
	}
	if err := checkTags("tags", f.Tags); err != nil {
		return err
	}
	sh, err := compileGeometry(f.Geometry, f.RadiusM)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	loc, err := loadZone("time_zone", f.TimeZone, true)
	if err != nil {
		return err
	}
	sc, err := compileSchedule(f.Hours, f.Exceptions)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	f.shape, f.sched, f.loc = sh, sc, loc
	return nil
}

// loadZone loads an IANA time zone. "Local" is refused: it would depend on
// the server's own zone.
func loadZone(field, name string, required bool) (*time.Location, error) {
	if name == "" {
		if required {
			return nil, fmt.Errorf("%w: %s: required (an IANA zone like \"Europe/Paris\")", ErrInvalid, field)
		}
		return nil, nil
	}
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("%w: %s: %q is not an IANA zone name", ErrInvalid, field, name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %q is not an IANA zone name", ErrInvalid, field, name)
	}
	return loc, nil
}

func checkName(field, s string, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: %s: required", ErrInvalid, field)
	case len(s) > MaxNameBytes:
		return fmt.Errorf("%w: %s: longer than %d bytes", ErrInvalid, field, MaxNameBytes)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s: invalid UTF-8", ErrInvalid, field)
	}
	return nil
}

func checkTags(field string, tags []string) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("%w: %s: more than %d tags", ErrInvalid, field, MaxTags)
	}
	for i, t := range tags {
		if err := checkName(fmt.Sprintf("%s[%d]", field, i), t, true); err != nil {
			return err
		}
	}
	return nil
}

// hasAnyTag reports whether have holds one of want.
func hasAnyTag(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

var errNoID = errors.New("id is assigned by the server")
