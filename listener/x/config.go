package x

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Rule is a filtered-stream rule. Tag identifies it: rules are synced by
// tag, and a tag's value changing replaces the rule.
type Rule struct {
	Value string `json:"value" yaml:"value"`
	Tag   string `json:"tag" yaml:"tag"`
}

// Config configures a Source and a Replier. Zero values take the defaults
// their comments give.
type Config struct {
	// Name is the source name on mentions (default "x").
	Name string `yaml:"-"`
	// APIURL is the API's base URL (default https://api.x.com).
	APIURL string `yaml:"api_url"`
	// BearerToken is the app-only token for the stream and its rules. Load
	// it from VIGIE_X_BEARER_TOKEN or _FILE. Required for a Source.
	BearerToken string `yaml:"-"`
	// Rules are the stream rules to keep (at most 1,000, each up to 1,024
	// characters, each with a distinct tag). Empty: the rules already on
	// the account are left alone.
	Rules []Rule `yaml:"rules"`
	// BackfillMinutes (0 to 5) asks a reconnection for the posts of the
	// last minutes it missed (Pro and Enterprise access only).
	BackfillMinutes int `yaml:"backfill_minutes"`
	// KeepAliveTimeout is how long a silent stream is trusted (default 25 s:
	// X sends a keep-alive every 20 s).
	KeepAliveTimeout time.Duration `yaml:"keep_alive_timeout"`
	// NetworkBackoff, HTTPBackoff and RateLimitBackoff are the first delays
	// of X's reconnect policy (default 250 ms linear to 16 s, 5 s doubling
	// to 320 s, 1 min doubling to 16 min). Tests shorten them.
	NetworkBackoff   time.Duration `yaml:"network_backoff"`
	HTTPBackoff      time.Duration `yaml:"http_backoff"`
	RateLimitBackoff time.Duration `yaml:"rate_limit_backoff"`
	// UserToken is an OAuth 2 user-context token with tweet.write,
	// tweet.read and users.read, for replies. Load it from
	// VIGIE_X_USER_TOKEN or _FILE.
	UserToken string `yaml:"-"`
	// UserAgent is sent on every request (default "vigie").
	UserAgent string `yaml:"user_agent"`
	// HTTPClient makes every request (default: a client without a global
	// timeout, since the stream is long-lived; other calls get 30 s).
	HTTPClient *http.Client `yaml:"-"`
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.Name == "" {
		c.Name = "x"
	}
	if c.APIURL == "" {
		c.APIURL = "https://api.x.com"
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("x: API URL %q is not an http(s) URL", c.APIURL))
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if len(c.Rules) > 1000 {
		errs = append(errs, errors.New("x: at most 1,000 stream rules"))
	}
	tags := map[string]bool{}
	for i, r := range c.Rules {
		switch {
		case strings.TrimSpace(r.Value) == "":
			errs = append(errs, fmt.Errorf("x: rule %d has no value", i))
		case len([]rune(r.Value)) > 1024:
			errs = append(errs, fmt.Errorf("x: rule %d is longer than 1,024 characters", i))
		}
		if r.Tag == "" || tags[r.Tag] {
			errs = append(errs, fmt.Errorf("x: rule %d needs a tag of its own (rules are synced by tag)", i))
		}
		tags[r.Tag] = true
	}
	if c.BackfillMinutes < 0 || c.BackfillMinutes > 5 {
		errs = append(errs, fmt.Errorf("x: backfill minutes %d outside 0..5", c.BackfillMinutes))
	}
	if c.KeepAliveTimeout <= 0 {
		c.KeepAliveTimeout = 25 * time.Second
	}
	if c.NetworkBackoff <= 0 {
		c.NetworkBackoff = 250 * time.Millisecond
	}
	if c.HTTPBackoff <= 0 {
		c.HTTPBackoff = 5 * time.Second
	}
	if c.RateLimitBackoff <= 0 {
		c.RateLimitBackoff = time.Minute
	}
	if c.UserAgent == "" {
		c.UserAgent = "vigie"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	return errors.Join(errs...)
}
