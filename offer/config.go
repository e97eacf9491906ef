package offer

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config configures the offer engine. The zero value of every field but
// Path has a documented default.
type Config struct {
	// Path is the SQLite file (<data>/offer.db). Required.
	Path string
	// BatchSize bounds the intake records one transaction decides
	// (default 512, as the router: a batch commits in milliseconds).
	BatchSize int

	// UserCap is the most offers one person receives across all campaigns
	// in UserCapWindow (default 1).
	UserCap int
	// UserCapWindow is the window of UserCap (default 24 h).
	UserCapWindow time.Duration
	// VisitTimeout ends a visit a person has not checked in again during:
	// the next check-in inside the fence is a new entry (default 2 h).
	VisitTimeout time.Duration
	// MaxAge skips check-ins older than this when they are decided (reason
	// "stale"): an offer for a visit long over is noise. Default 30 min;
	// negative disables the guard (replays of old data).
	MaxAge time.Duration

	// GatewayURL is the SMS/CRM gateway's webhook (http or https). Empty:
	// offers are decided and recorded but not delivered (delivery "none").
	GatewayURL string
	// GatewaySecret signs the webhooks (HMAC-SHA256) and authenticates the
	// gateway's redemption callbacks. Required with GatewayURL; at least 16
	// bytes.
	GatewaySecret string
	// GatewayTimeout bounds one webhook call (default 10 s).
	GatewayTimeout time.Duration
	// MaxAttempts is how many calls a delivery gets before it goes to the
	// dead-letter list (default 8: with the default back-off, about 4 min
	// of a gateway outage).
	MaxAttempts int
	// RetryBase is the first retry's delay, doubled at each attempt
	// (default 1 s), up to RetryMax (default 5 min), with ±20% jitter.
	RetryBase time.Duration
	RetryMax  time.Duration
	// DeliveryWorkers bounds concurrent webhook calls (default 4).
	DeliveryWorkers int
	// CallbackSkew is how far a callback's X-Vigie-Timestamp may be from
	// now (default 5 min): an older signed request is a replay.
	CallbackSkew time.Duration

	// Now is the clock (default time.Now); tests set a fake one.
	Now func() time.Time
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("offer: path required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.BatchSize == 0 {
		c.BatchSize = 512
	}
	if c.UserCap == 0 {
		c.UserCap = 1
	}
	def(&c.UserCapWindow, 24*time.Hour)
	def(&c.VisitTimeout, 2*time.Hour)
	def(&c.MaxAge, 30*time.Minute)
	def(&c.GatewayTimeout, 10*time.Second)
	def(&c.RetryBase, time.Second)
	def(&c.RetryMax, 5*time.Minute)
	def(&c.CallbackSkew, 5*time.Minute)
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.DeliveryWorkers == 0 {
		c.DeliveryWorkers = 4
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.BatchSize < 1 || c.UserCap < 1 || c.MaxAttempts < 1 || c.DeliveryWorkers < 1:
		return fmt.Errorf("offer: batch size (%d), user cap (%d), attempts (%d) and workers (%d) must be positive", c.BatchSize, c.UserCap, c.MaxAttempts, c.DeliveryWorkers)
	case c.UserCapWindow < 0 || c.VisitTimeout < 0 || c.GatewayTimeout < 0 || c.RetryBase < 0 || c.RetryMax < c.RetryBase || c.CallbackSkew < 0:
		return errors.New("offer: durations must be positive, and the retry maximum at least the base")
	}
	if c.GatewayURL != "" {
		u, err := url.Parse(c.GatewayURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("offer: gateway URL %q: want http(s)://host/path", c.GatewayURL)
		}
		if len(c.GatewaySecret) < 16 {
			return errors.New("offer: a gateway URL needs a gateway secret of at least 16 bytes (VIGIE_OFFER_GATEWAY_SECRET or _FILE)")
		}
	}
	return nil
}
