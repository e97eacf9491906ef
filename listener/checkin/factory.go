package checkin

import (
	"net/http"

	"github.com/vigie/vigie/listener/sources"
)

func deps(d sources.Deps) Deps {
	return Deps{Append: d.Append, Health: d.Health, Logger: d.Logger, Metrics: d.Metrics}
}

func instance(h *Handler, err error, sc sources.SourceConfig) (sources.Instance, error) {
	if err != nil {
		return sources.Instance{}, sc.Errorf("%v", err)
	}
	return sources.Instance{Hook: http.Handler(h)}, nil
}

// FoursquareFactory builds a Foursquare push receiver (type "foursquare"),
// mounted at /hooks/{name}:
//
//   - type: foursquare
//     name: foursquare
//     settings: {source: foursquare}
//     secrets: {push_secret: FOURSQUARE_PUSH_SECRET}
func FoursquareFactory(sc sources.SourceConfig, d sources.Deps) (sources.Instance, error) {
	var cfg FoursquareConfig
	if err := sc.Decode(&cfg); err != nil {
		return sources.Instance{}, err
	}
	var err error
	if cfg.PushSecret, err = sc.Secret("push_secret"); err != nil {
		return sources.Instance{}, err
	}
	h, err := NewFoursquare(cfg, deps(d))
	return instance(h, err, sc)
}

// RadarFactory builds a Radar webhook receiver (type "radar"):
//
//   - type: radar
//     name: radar
//     settings: {events: [user.entered_geofence, user.entered_place]}
//     secrets: {token: RADAR_WEBHOOK_TOKEN}
func RadarFactory(sc sources.SourceConfig, d sources.Deps) (sources.Instance, error) {
	var cfg RadarConfig
	if err := sc.Decode(&cfg); err != nil {
		return sources.Instance{}, err
	}
	var err error
	if cfg.Token, err = sc.Secret("token"); err != nil {
		return sources.Instance{}, err
	}
	h, err := NewRadar(cfg, deps(d))
	return instance(h, err, sc)
}

// LocationFactory builds a generic signed location webhook (type
// "location-webhook"); its check-ins are filed under the source's name
// unless settings.source says otherwise:
//
//   - type: location-webhook
//     name: store-app
//     settings: {tolerance: 5m}
//     secrets: {secret: STORE_APP_WEBHOOK_SECRET}
func LocationFactory(sc sources.SourceConfig, d sources.Deps) (sources.Instance, error) {
	var cfg LocationConfig
	if err := sc.Decode(&cfg); err != nil {
		return sources.Instance{}, err
	}
	if cfg.Source == "" {
		cfg.Source = sc.Name
	}
	var err error
	if cfg.Secret, err = sc.Secret("secret"); err != nil {
		return sources.Instance{}, err
	}
	h, err := NewLocation(cfg, deps(d))
	return instance(h, err, sc)
}
