package crm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config configures the CRM. Zero fields take the defaults documented on
// each; Validate fills them in.
type Config struct {
	// Path is the SQLite file (<data>/crm.db). Required.
	Path string
	// BatchSize bounds the desk events read at once (default 500).
	BatchSize int
	// MaxDelay is how long the CRM lets events gather, once one arrives,
	// before it applies them (default 250ms). Batches of a few hundred
	// events cost a fraction of the CPU and commits of one batch an event,
	// and leave the cores to the agents' hot path; profiles are at most
	// this late. A backlog larger than BatchSize is applied without delay.
	MaxDelay time.Duration
	// Yield, when set, is called before each batch is applied: it returns
	// once the hot path (intake, router) has no work waiting, or after a
	// bounded delay (internal/yield), so that bursts and agents' tickets
	// get the CPUs first. Nil: never wait.
	Yield func(context.Context)
	// Surveys are the CSAT survey templates by queue. A ticket resolved in
	// a queue without one is offered no survey. The key "*" applies to
	// every queue without its own.
	Surveys map[string]Survey
	// SurveyTTL is how long a survey can be answered (default 7 days).
	SurveyTTL time.Duration
	// Secret signs survey tokens. Empty: a random secret is generated once
	// and kept in the database, so tokens survive restarts.
	Secret []byte
	// Export is the brand's CRM webhook that segments are exported to.
	Export ExportConfig
	// Campaigns configures outbound campaigns (networks allowed and their
	// rate limits, frequency caps, reply tracking).
	Campaigns CampaignConfig
	// BrandFollowers is the follower count of the brand's account on each
	// network, the denominator of the interaction rate (Engagement). A
	// network without one has interactions but no rate.
	BrandFollowers map[string]int64
	// Now is the clock of expiries and "last N days" filters (default
	// time.Now); tests replaying old data set it.
	Now func() time.Time
}

// Survey is a queue's CSAT survey template.
type Survey struct {
	// Text is the message offered to the customer; "{link}" in it is
	// replaced by the survey's link. Required.
	Text string `json:"text" yaml:"text"`
	// URL is the survey page; "{token}" in it is replaced by the survey's
	// token, which the page posts back to POST /api/v1/csat/{token}.
	// Required, http or https, with "{token}".
	URL string `json:"url" yaml:"url"`
}

// ExportConfig is where segment exports go.
type ExportConfig struct {
	// URL receives the signed JSON export (empty: no webhook export).
	URL string
	// Secret keys the HMAC-SHA256 signature (X-Vigie-Signature). Required
	// with URL.
	Secret string
	// Timeout bounds one webhook call (default 30s).
	Timeout time.Duration
}

// CampaignConfig configures outbound campaigns.
type CampaignConfig struct {
	// Networks are the networks campaigns may post on, each with its rate
	// limit; a network not listed allows no campaign message. Nil takes
	// DefaultCampaignNetworks.
	Networks map[string]NetworkLimit `yaml:"networks"`
	// FrequencyCap is the most campaign messages one person (a profile,
	// across its networks) receives in FrequencyWindow (defaults 1 and 7
	// days).
	FrequencyCap    int           `yaml:"frequency_cap"`
	FrequencyWindow time.Duration `yaml:"frequency_window"`
	// ReplyWindow: a post from a recipient this long after a campaign
	// message counts as a reply to it even outside its thread (default
	// 72h). A post answering the message itself always counts.
	ReplyWindow time.Duration `yaml:"reply_window"`
	// MaxAttempts bounds the tries of one message before it fails
	// (default 5; a permanent refusal fails at once).
	MaxAttempts int `yaml:"max_attempts"`
}

// NetworkLimit is a network's rate limit for campaign messages: a token
// bucket refilled at PerHour, holding up to Burst.
type NetworkLimit struct {
	PerHour float64 `yaml:"per_hour" json:"per_hour"`
	Burst   int     `yaml:"burst" json:"burst"`
}

// DefaultCampaignNetworks are the networks whose APIs let an account post
// to a person, at a pace under their published limits for one account:
// Mastodon 300 posts per 3 hours, Bluesky 1,666 record creations per hour
// (5,000 points, 3 each), X 100 posts per 15 minutes. RSS, Meta webhooks
// and check-in apps give Vigie no way to post to a person.
var DefaultCampaignNetworks = map[string]NetworkLimit{
	"mastodon": {PerHour: 90, Burst: 10},
	"bluesky":  {PerHour: 1500, Burst: 20},
	"x":        {PerHour: 300, Burst: 10},
}

func (c *CampaignConfig) validate() error {
	if c.Networks == nil {
		c.Networks = DefaultCampaignNetworks
	}
	for n, l := range c.Networks {
		if n == "" || l.PerHour <= 0 || l.Burst < 1 {
			return fmt.Errorf("crm: campaigns: network %q: per_hour must be positive and burst at least 1", n)
		}
	}
	if c.FrequencyCap == 0 {
		c.FrequencyCap = 1
	}
	if c.FrequencyWindow == 0 {
		c.FrequencyWindow = 7 * 24 * time.Hour
	}
	if c.ReplyWindow == 0 {
		c.ReplyWindow = 72 * time.Hour
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 5
	}
	if c.FrequencyCap < 0 || c.FrequencyWindow < 0 || c.ReplyWindow < 0 || c.MaxAttempts < 0 {
		return errors.New("crm: campaigns: frequency_cap, frequency_window, reply_window and max_attempts must be positive")
	}
	return nil
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("crm: path required")
	}
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.BatchSize < 0 {
		return fmt.Errorf("crm: batch size %d must be positive", c.BatchSize)
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 250 * time.Millisecond
	}
	if c.MaxDelay < 0 {
		return fmt.Errorf("crm: max delay %v must be positive", c.MaxDelay)
	}
	if c.SurveyTTL == 0 {
		c.SurveyTTL = 7 * 24 * time.Hour
	}
	if c.SurveyTTL < 0 {
		return fmt.Errorf("crm: survey ttl %v must be positive", c.SurveyTTL)
	}
	for q, s := range c.Surveys {
		if strings.TrimSpace(s.Text) == "" {
			return fmt.Errorf("crm: survey of queue %q: text required", q)
		}
		if err := checkURL(s.URL); err != nil {
			return fmt.Errorf("crm: survey of queue %q: url: %w", q, err)
		}
		if !strings.Contains(s.URL, "{token}") {
			return fmt.Errorf("crm: survey of queue %q: url must hold {token}", q)
		}
	}
	if c.Export.URL != "" {
		if err := checkURL(c.Export.URL); err != nil {
			return fmt.Errorf("crm: export url: %w", err)
		}
		if c.Export.Secret == "" {
			return errors.New("crm: export secret required with the export url")
		}
	}
	if c.Export.Timeout == 0 {
		c.Export.Timeout = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	for n, f := range c.BrandFollowers {
		if f < 0 {
			return fmt.Errorf("crm: brand_followers of %q: %d must not be negative", n, f)
		}
	}
	return c.Campaigns.validate()
}

func checkURL(s string) error {
	u, err := url.Parse(strings.ReplaceAll(s, "{token}", "t"))
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// survey returns the template for queue.
func (c *Config) survey(queue string) (Survey, bool) {
	if s, ok := c.Surveys[queue]; ok {
		return s, true
	}
	s, ok := c.Surveys["*"]
	return s, ok
}

// fileConfig is the YAML form of the configuration (LoadConfig).
type fileConfig struct {
	Surveys   map[string]Survey `yaml:"surveys"`
	SurveyTTL time.Duration     `yaml:"survey_ttl"`
	Export    struct {
		URL        string        `yaml:"url"`
		SecretFile string        `yaml:"secret_file"`
		Timeout    time.Duration `yaml:"timeout"`
	} `yaml:"export"`
	Campaigns      CampaignConfig   `yaml:"campaigns"`
	BrandFollowers map[string]int64 `yaml:"brand_followers"`
}

// LoadConfig reads the CRM's configuration file (YAML):
//
//	surveys:                  # CSAT survey templates by queue ("*": any other)
//	  support: {text: "How did we do? {link}", url: "https://brand.example/csat?t={token}"}
//	survey_ttl: 168h
//	export:                   # the brand's CRM webhook for segment exports
//	  url: https://crm.example/hooks/vigie
//	  secret_file: /run/secrets/vigie-crm   # the HMAC secret, never inline
//	  timeout: 30s
//	campaigns:                # outbound campaigns (DefaultCampaignNetworks without networks)
//	  networks: {mastodon: {per_hour: 90, burst: 10}}
//	  frequency_cap: 1        # messages per person per window
//	  frequency_window: 168h
//	  reply_window: 72h
//	brand_followers: {mastodon: 12000, bluesky: 3400}  # the interaction rate's denominators
//
// Unknown fields are errors. Path is left for the caller to set; the
// result is not validated yet (Open does it).
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read crm config: %w", err)
	}
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("crm config %s: %w", path, err)
	}
	c := Config{Surveys: fc.Surveys, SurveyTTL: fc.SurveyTTL, Export: ExportConfig{URL: fc.Export.URL, Timeout: fc.Export.Timeout}, Campaigns: fc.Campaigns,
		BrandFollowers: fc.BrandFollowers}
	if fc.Export.SecretFile != "" {
		b, err := os.ReadFile(fc.Export.SecretFile)
		if err != nil {
			return Config{}, fmt.Errorf("crm config %s: export secret: %w", path, err)
		}
		c.Export.Secret = strings.TrimRight(string(b), "\r\n")
	}
	return c, nil
}
