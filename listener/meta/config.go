package meta

import (
	"errors"
	"fmt"
	"net/url"
)

// DefaultGraphURL is the Graph API Vigie talks to, with the version it was
// written against.
const DefaultGraphURL = "https://graph.facebook.com/v21.0"

// DefaultMaxBodyBytes bounds a delivery: Meta batches up to 1,000 changes,
// a few hundred bytes each; 4 MiB leaves room for long comments.
const DefaultMaxBodyBytes = 4 << 20

// Config configures a Meta source.
type Config struct {
	// AppSecret keys the deliveries' HMAC. Required.
	AppSecret string `yaml:"-"`
	// VerifyToken is the token set in the app's webhook settings, echoed by
	// the verification handshake. Required.
	VerifyToken string `yaml:"-"`
	// AccessToken is the Page access token used to reply and to fetch
	// Instagram mentions. Without it, replies are not offered and
	// Instagram mentions are skipped.
	AccessToken string `yaml:"-"`
	// GraphURL is the Graph API base, version included (default
	// DefaultGraphURL).
	GraphURL string `yaml:"graph_url"`
	// Facebook and Instagram name the sources items are filed under
	// (default "facebook" and "instagram").
	Facebook  string `yaml:"facebook_source"`
	Instagram string `yaml:"instagram_source"`
	// MaxBodyBytes bounds a delivery (default DefaultMaxBodyBytes).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Validate fills the defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.AppSecret == "" {
		return errors.New("meta: app secret required")
	}
	if c.VerifyToken == "" {
		return errors.New("meta: verify token required")
	}
	if c.GraphURL == "" {
		c.GraphURL = DefaultGraphURL
	}
	u, err := url.Parse(c.GraphURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("meta: graph_url %q: want an http(s) URL", c.GraphURL)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("meta: max_body_bytes %d: want at least 1024", c.MaxBodyBytes)
	}
	n := Networks{Facebook: c.Facebook, Instagram: c.Instagram}.withDefaults()
	c.Facebook, c.Instagram = n.Facebook, n.Instagram
	if c.Facebook == c.Instagram {
		return fmt.Errorf("meta: facebook_source and instagram_source are both %q", c.Facebook)
	}
	return nil
}
