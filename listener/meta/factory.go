package meta

import (
	"github.com/vigie/vigie/listener/sources"
)

// Factory builds a Meta source from its entry in the sources file (type
// "meta"): a webhook receiver mounted at /hooks/{name} and, with an access
// token, a Replier for the Facebook and Instagram networks.
//
//   - type: meta
//     name: meta
//     settings: {graph_url: ..., facebook_source: facebook, instagram_source: instagram}
//     secrets: {app_secret: META_APP_SECRET, verify_token: META_VERIFY_TOKEN, access_token: META_PAGE_TOKEN}
func Factory(sc sources.SourceConfig, deps sources.Deps) (sources.Instance, error) {
	var cfg Config
	if err := sc.Decode(&cfg); err != nil {
		return sources.Instance{}, err
	}
	var err error
	if cfg.AppSecret, err = sc.Secret("app_secret"); err != nil {
		return sources.Instance{}, err
	}
	if cfg.VerifyToken, err = sc.Secret("verify_token"); err != nil {
		return sources.Instance{}, err
	}
	cfg.AccessToken = sc.OptionalSecret("access_token")
	if err := cfg.Validate(); err != nil {
		return sources.Instance{}, sc.Errorf("%v", err)
	}
	var graph *Graph
	if cfg.AccessToken != "" {
		graph = NewGraph(cfg.GraphURL, cfg.AccessToken, cfg.AppSecret, Networks{Facebook: cfg.Facebook, Instagram: cfg.Instagram}, deps.HTTP)
	}
	h, err := NewHandler(cfg, deps.Append, graph, deps.Health, deps.Logger, deps.Metrics)
	if err != nil {
		return sources.Instance{}, sc.Errorf("%v", err)
	}
	inst := sources.Instance{Hook: h}
	if graph != nil {
		inst.Replier, inst.Networks = graph, []string{cfg.Facebook, cfg.Instagram}
	}
	return inst, nil
}
