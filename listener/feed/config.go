package feed

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Defaults.
const (
	// DefaultInterval is the poll period: feeds ask for 5 to 15 minutes.
	DefaultInterval = 10 * time.Minute
	// DefaultJitter spreads polls by ±10% of the interval.
	DefaultJitter = 0.1
	// DefaultTimeout bounds one fetch.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxBodyBytes bounds a document; large podcast feeds reach a
	// few MiB.
	DefaultMaxBodyBytes = 8 << 20
	// maxBackoff caps the wait after failures in a row.
	maxBackoff = time.Hour
)

// Config configures a feed Source.
type Config struct {
	// Name is the source's name: in logs, in the registry and in the cursor
	// name. Required.
	Name string `yaml:"-"`
	// URL is the feed's address. Required.
	URL string `yaml:"url"`
	// Interval is the poll period (default DefaultInterval).
	Interval time.Duration `yaml:"interval"`
	// Jitter spreads each wait by up to ±Jitter×Interval (default
	// DefaultJitter; 0 < Jitter < 1). A negative value means none.
	Jitter float64 `yaml:"jitter"`
	// Match, when set, keeps only entries whose title or text contains one
	// of these keywords, case-insensitive.
	Match []string `yaml:"match"`
	// Source is the network name mentions are filed under (default "rss").
	Source string `yaml:"source"`
	// Timeout bounds one fetch (default DefaultTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// MaxBodyBytes bounds a document (default DefaultMaxBodyBytes).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// UserAgent is sent with each fetch (default "Vigie feed poller").
	UserAgent string `yaml:"user_agent"`
}

// Validate fills the defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Name == "" {
		return errors.New("feed: name required")
	}
	u, err := url.Parse(c.URL)
	if c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("feed %s: url %q: want an http(s) URL", c.Name, c.URL)
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Interval < 0 {
		return fmt.Errorf("feed %s: interval %v must be positive", c.Name, c.Interval)
	}
	switch {
	case c.Jitter == 0:
		c.Jitter = DefaultJitter
	case c.Jitter < 0:
		c.Jitter = 0
	case c.Jitter >= 1:
		return fmt.Errorf("feed %s: jitter %v must be below 1", c.Name, c.Jitter)
	}
	for i, k := range c.Match {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("feed %s: match[%d] is empty", c.Name, i)
		}
	}
	if c.Source == "" {
		c.Source = "rss"
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.UserAgent == "" {
		c.UserAgent = "Vigie feed poller"
	}
	return nil
}
