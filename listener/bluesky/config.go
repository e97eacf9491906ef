package bluesky

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config configures a Source and a Replier. Zero values take the defaults
// their comments give.
type Config struct {
	// Name is the source name on mentions (default "bluesky").
	Name string `yaml:"-"`
	// JetstreamURL is the subscribe endpoint (default
	// wss://jetstream2.us-east.bsky.network/subscribe).
	JetstreamURL string `yaml:"jetstream_url"`
	// WantedDIDs restricts the stream to these accounts (at most 10,000).
	// Empty: the whole network's posts, filtered by BrandDID and Keywords.
	WantedDIDs []string `yaml:"wanted_dids"`
	// BrandDID is the brand's account: posts whose facets mention it, or that
	// answer one of its posts, are mentions; its own posts are skipped.
	BrandDID string `yaml:"brand_did"`
	// Keywords make a post a mention when its text holds one of them
	// (case-insensitive). At least one of BrandDID, Keywords and WantedDIDs
	// is required: the unfiltered network is not a mention stream.
	Keywords []string `yaml:"keywords"`
	// AppViewURL serves getProfile and getPosts (default
	// https://public.api.bsky.app).
	AppViewURL string `yaml:"app_view_url"`
	// ProfileTTL is how long an author profile is cached (default 1 h).
	ProfileTTL time.Duration `yaml:"profile_ttl"`
	// ResumeWindow is how far before the persisted cursor a reconnection
	// resumes (default 5 s), so that events in flight are not lost.
	ResumeWindow time.Duration `yaml:"resume_window"`
	// PingInterval and ReadTimeout keep the websocket honest (default 30 s
	// and 60 s): Jetstream sends no heartbeat of its own.
	PingInterval time.Duration `yaml:"ping_interval"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	// CheckpointInterval is how often the cursor is persisted while nothing
	// is waiting for a commit (default 10 s).
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// BackoffMin and BackoffMax bound the reconnect delay (default 1 s and
	// 60 s, doubling, with jitter).
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// TrackDeletes is how many emitted posts and authors the Source remembers
	// to forward their deletions (default 100,000): the network-wide stream
	// deletes far more posts than Vigie ever stored. With WantedDIDs every
	// deletion of those accounts is forwarded.
	TrackDeletes int `yaml:"track_deletes"`

	// PDSURL is the brand account's PDS, for replies (default
	// https://bsky.social).
	PDSURL string `yaml:"pds_url"`
	// Identifier is the brand account's handle or DID, for replies.
	Identifier string `yaml:"identifier"`
	// AppPassword is an app password of the brand account, for replies.
	// Load it from VIGIE_BLUESKY_APP_PASSWORD or _FILE.
	AppPassword string `yaml:"-"`

	// HTTPClient makes the XRPC calls (default: one with a 30 s timeout).
	HTTPClient *http.Client `yaml:"-"`
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.Name == "" {
		c.Name = "bluesky"
	}
	if c.JetstreamURL == "" {
		c.JetstreamURL = "wss://jetstream2.us-east.bsky.network/subscribe"
	}
	if u, err := url.Parse(c.JetstreamURL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		errs = append(errs, fmt.Errorf("bluesky: jetstream URL %q is not a ws(s) URL", c.JetstreamURL))
	}
	if c.AppViewURL == "" {
		c.AppViewURL = "https://public.api.bsky.app"
	}
	if c.PDSURL == "" {
		c.PDSURL = "https://bsky.social"
	}
	for what, s := range map[string]string{"app view URL": c.AppViewURL, "PDS URL": c.PDSURL} {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("bluesky: %s %q is not an http(s) URL", what, s))
		}
	}
	c.AppViewURL = strings.TrimRight(c.AppViewURL, "/")
	c.PDSURL = strings.TrimRight(c.PDSURL, "/")
	if len(c.WantedDIDs) > 10000 {
		errs = append(errs, errors.New("bluesky: Jetstream accepts at most 10,000 wanted DIDs"))
	}
	for _, d := range append(append([]string{}, c.WantedDIDs...), c.BrandDID) {
		if d != "" && !strings.HasPrefix(d, "did:") {
			errs = append(errs, fmt.Errorf("bluesky: %q is not a DID", d))
		}
	}
	kw := c.Keywords[:0:0]
	for _, k := range c.Keywords {
		if k = strings.TrimSpace(k); k != "" {
			kw = append(kw, strings.ToLower(k))
		}
	}
	c.Keywords = kw
	if c.BrandDID == "" && len(c.Keywords) == 0 && len(c.WantedDIDs) == 0 {
		errs = append(errs, errors.New("bluesky: set a brand DID, keywords or wanted DIDs: the whole network is not a mention stream"))
	}
	if c.ProfileTTL <= 0 {
		c.ProfileTTL = time.Hour
	}
	if c.ResumeWindow <= 0 {
		c.ResumeWindow = 5 * time.Second
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 60 * time.Second
	}
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = 10 * time.Second
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = time.Minute
	}
	if c.TrackDeletes <= 0 {
		c.TrackDeletes = 100_000
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return errors.Join(errs...)
}

// validateReplier checks what a Replier needs: the URLs and the brand
// account's credentials (not the listening filters).
func (c *Config) validateReplier() error {
	err := c.Validate()
	var errs []error
	for _, e := range unwrapJoin(err) {
		if !strings.Contains(e.Error(), "not a mention stream") {
			errs = append(errs, e)
		}
	}
	if c.Identifier == "" || c.AppPassword == "" {
		errs = append(errs, errors.New("bluesky: replies need an identifier and an app password (VIGIE_BLUESKY_APP_PASSWORD or _FILE)"))
	}
	return errors.Join(errs...)
}

func unwrapJoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
