package mastodon

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Stream names a Mastodon stream, as the websocket API spells it.
type Stream string

// The streams a Source can follow.
const (
	StreamHashtag      Stream = "hashtag"
	StreamHashtagLocal Stream = "hashtag:local"
	StreamPublic       Stream = "public"
	StreamPublicLocal  Stream = "public:local"
	StreamPublicRemote Stream = "public:remote"
	StreamUser         Stream = "user"
)

// Transport is how the stream is read.
type Transport string

// The transports: Server-Sent Events (the default) or the websocket.
const (
	TransportSSE       Transport = "sse"
	TransportWebSocket Transport = "websocket"
)

// Config configures a Source and a Replier. Zero values take the defaults
// their comments give.
type Config struct {
	// Name is the source name on mentions (default "mastodon"). Give each
	// instance its own name when following several.
	Name string `yaml:"-"`
	// Server is the instance's base URL, e.g. https://mastodon.social.
	// Required.
	Server string `yaml:"server"`
	// StreamingURL is the streaming host's base URL when it differs from
	// Server (the instance's configuration.urls.streaming). Default Server.
	StreamingURL string `yaml:"streaming_url"`
	// Token is a user access token with read:statuses (and write:statuses
	// to reply). Required: since Mastodon 4.2 public and hashtag streams need
	// one. Load it from VIGIE_MASTODON_TOKEN or VIGIE_MASTODON_TOKEN_FILE.
	Token string `yaml:"-"`
	// Stream is the stream to follow (default hashtag when Tag is set,
	// else user).
	Stream Stream `yaml:"stream"`
	// Tag is the hashtag, without '#', for the hashtag streams.
	Tag string `yaml:"tag"`
	// Transport is sse (default) or websocket.
	Transport Transport `yaml:"transport"`
	// HeartbeatTimeout is how long a silent connection is trusted (default
	// 45 s: the server writes ":thump" every 15 s, so three missed beats).
	HeartbeatTimeout time.Duration `yaml:"heartbeat_timeout"`
	// BackoffMin and BackoffMax bound the reconnect delay (default 1 s and
	// 60 s, doubling, with jitter).
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// CatchUpPages bounds the REST pages (40 statuses each) read after a
	// reconnection (default 25, i.e. 1,000 statuses, well inside the 300
	// requests per 5 minutes an account may make).
	CatchUpPages int `yaml:"catch_up_pages"`
	// ReplyVisibility is the visibility of replies: public, unlisted,
	// private or direct (default: the account's default).
	ReplyVisibility string `yaml:"reply_visibility"`
	// NoMentionAuthor stops the Replier from starting a reply with the
	// author's @acct when the text does not name them. Mastodon notifies
	// only the accounts a post mentions.
	NoMentionAuthor bool `yaml:"no_mention_author"`
	// HTTPClient is used for every request (default: a client without a
	// global timeout, since streams are long-lived; REST calls get their
	// own 30 s timeout).
	HTTPClient *http.Client `yaml:"-"`
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.Name == "" {
		c.Name = "mastodon"
	}
	if err := checkURL("server", c.Server); err != nil {
		errs = append(errs, err)
	}
	if c.StreamingURL == "" {
		c.StreamingURL = c.Server
	} else if err := checkURL("streaming URL", c.StreamingURL); err != nil {
		errs = append(errs, err)
	}
	c.Server = strings.TrimRight(c.Server, "/")
	c.StreamingURL = strings.TrimRight(c.StreamingURL, "/")
	if c.Token == "" {
		errs = append(errs, errors.New("mastodon: token is required (VIGIE_MASTODON_TOKEN or VIGIE_MASTODON_TOKEN_FILE)"))
	}
	c.Tag = strings.TrimPrefix(c.Tag, "#")
	if c.Stream == "" {
		c.Stream = StreamUser
		if c.Tag != "" {
			c.Stream = StreamHashtag
		}
	}
	switch c.Stream {
	case StreamHashtag, StreamHashtagLocal:
		if c.Tag == "" {
			errs = append(errs, fmt.Errorf("mastodon: stream %s needs a tag", c.Stream))
		}
	case StreamPublic, StreamPublicLocal, StreamPublicRemote, StreamUser:
	default:
		errs = append(errs, fmt.Errorf("mastodon: unknown stream %q (hashtag, hashtag:local, public, public:local, public:remote, user)", c.Stream))
	}
	switch c.Transport {
	case "":
		c.Transport = TransportSSE
	case TransportSSE, TransportWebSocket:
	default:
		errs = append(errs, fmt.Errorf("mastodon: unknown transport %q (sse, websocket)", c.Transport))
	}
	switch c.ReplyVisibility {
	case "", "public", "unlisted", "private", "direct":
	default:
		errs = append(errs, fmt.Errorf("mastodon: unknown reply visibility %q", c.ReplyVisibility))
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 45 * time.Second
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = time.Minute
	}
	if c.BackoffMax < c.BackoffMin {
		errs = append(errs, errors.New("mastodon: backoff max is below backoff min"))
	}
	if c.CatchUpPages <= 0 {
		c.CatchUpPages = 25
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	return errors.Join(errs...)
}

func checkURL(what, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("mastodon: %s %q is not an http(s) URL", what, s)
	}
	return nil
}
