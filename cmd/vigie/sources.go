package main

// Wiring of the network sources (listener/sources and the connectors).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/bluesky"
	"github.com/vigie/vigie/listener/checkin"
	"github.com/vigie/vigie/listener/feed"
	"github.com/vigie/vigie/listener/mastodon"
	"github.com/vigie/vigie/listener/meta"
	"github.com/vigie/vigie/listener/source"
	"github.com/vigie/vigie/listener/sources"
	"github.com/vigie/vigie/listener/x"
)

// newSourceRegistry builds every source of the sources file, and the extra
// ones given (the demo's). With neither, the registry only answers the admin
// API.
func newSourceRegistry(path string, log *intake.Log, logger *slog.Logger, reg prometheus.Registerer, extra ...sources.SourceConfig) (*sources.Registry, error) {
	r, err := sources.New(sources.Config{}, logger, reg)
	if err != nil {
		return nil, err
	}
	file := &sources.File{}
	if path != "" {
		if file, err = sources.Load(path); err != nil {
			return nil, err
		}
	}
	file.Sources = append(file.Sources, extra...)
	if len(file.Sources) == 0 {
		return r, nil
	}
	r.Register("mastodon", streamFactory(logger, reg, "token", func(sc sources.SourceConfig, secret string, deps sources.Deps) (streamSource, sources.Replier, error) {
		var cfg mastodon.Config
		if err := sc.Decode(&cfg); err != nil {
			return nil, nil, err
		}
		cfg.Name, cfg.Token = sc.Name, secret
		src, err := mastodon.New(cfg, deps.Cursors, logger, reg)
		if err != nil {
			return nil, nil, err
		}
		rep, err := mastodon.NewReplier(cfg, logger)
		return src, rep, err
	}))
	r.Register("bluesky", streamFactory(logger, reg, "app_password", func(sc sources.SourceConfig, secret string, deps sources.Deps) (streamSource, sources.Replier, error) {
		var cfg bluesky.Config
		if err := sc.Decode(&cfg); err != nil {
			return nil, nil, err
		}
		cfg.Name, cfg.AppPassword = sc.Name, secret
		src, err := bluesky.New(cfg, deps.Cursors, logger, reg)
		if err != nil {
			return nil, nil, err
		}
		rep, err := bluesky.NewReplier(cfg, logger)
		return src, rep, err
	}))
	r.Register("x", streamFactory(logger, reg, "bearer_token", func(sc sources.SourceConfig, secret string, deps sources.Deps) (streamSource, sources.Replier, error) {
		var cfg x.Config
		if err := sc.Decode(&cfg); err != nil {
			return nil, nil, err
		}
		cfg.Name, cfg.BearerToken, cfg.UserToken = sc.Name, secret, sc.OptionalSecret("user_token")
		src, err := x.New(cfg, logger, reg)
		if err != nil {
			return nil, nil, err
		}
		rep, err := x.NewReplier(cfg, logger)
		return src, rep, err
	}))
	r.Register("meta", meta.Factory)
	r.Register("rss", feed.Factory)
	r.Register("foursquare", checkin.FoursquareFactory)
	r.Register("radar", checkin.RadarFactory)
	r.Register("location-webhook", checkin.LocationFactory)
	appendFn := sources.AppendFunc(func(ctx context.Context, items []listener.Item, at time.Time) error {
		_, err := log.Append(ctx, items, at)
		return err
	})
	if err := r.Build(file, sources.Deps{Cursors: log, Append: appendFn}); err != nil {
		return nil, fmt.Errorf("sources file: %w", err)
	}
	return r, nil
}

// streamSource is a streaming connector (Mastodon, Bluesky, X).
type streamSource interface {
	listener.Source
	Observe(source.Observer)
}

// streamFactory adapts a streaming connector to the registry. The
// connectors register their metrics on the root registry (they label by
// source themselves) and use their own HTTP clients (the registry's has a
// timeout that would cut a stream).
func streamFactory(logger *slog.Logger, reg prometheus.Registerer, secretKey string, build func(sources.SourceConfig, string, sources.Deps) (streamSource, sources.Replier, error)) sources.Factory {
	return func(sc sources.SourceConfig, deps sources.Deps) (sources.Instance, error) {
		secret, err := sc.Secret(secretKey)
		if err != nil {
			return sources.Instance{}, err
		}
		src, rep, err := build(sc, secret, deps)
		if err != nil {
			return sources.Instance{}, sc.Errorf("%v", err)
		}
		if deps.Health != nil {
			src.Observe(deps.Health)
		}
		return sources.Instance{Source: src, Replier: rep, Networks: []string{sc.Name}}, nil
	}
}

// deskReplier posts the desk's replies through the source that answers the
// reply's network, and through fallback (the sandbox) for the others.
type deskReplier struct {
	sources  sources.Replier
	fallback desk.Replier
}

func (d deskReplier) Post(ctx context.Context, r desk.Reply) (string, error) {
	id, err := d.sources.Post(ctx, sources.Reply(r))
	switch {
	case errors.Is(err, sources.ErrNoReplier):
		return d.fallback.Post(ctx, r)
	case errors.Is(err, sources.ErrPermanent):
		return "", fmt.Errorf("%w: %w", desk.ErrPermanent, err)
	}
	return id, err
}
