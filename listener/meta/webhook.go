package meta

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/sources"
)

var checkItem = sources.CheckItem

// Handler receives Meta webhooks: the verification handshake and signed
// deliveries. Safe for concurrent use.
type Handler struct {
	cfg    Config
	graph  *Graph // nil without an access token
	append sources.Appender
	health sources.Health
	log    *slog.Logger
	m      *metrics
	now    func() time.Time
}

// NewHandler returns a Handler that appends what deliveries hold to app.
// graph fetches Instagram mentions; nil skips them. health may be nil.
func NewHandler(cfg Config, app sources.Appender, graph *Graph, health sources.Health, logger *slog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if app == nil {
		return nil, errors.New("meta: an appender is required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, graph: graph, append: app, health: health, log: logger.With("component", "meta"), m: newMetrics(reg), now: time.Now}, nil
}

// ServeHTTP answers GET (verification) and POST (deliveries).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.verify(w, r)
	case http.MethodPost:
		code, msg := h.deliver(r)
		if code != http.StatusOK {
			http.Error(w, msg, code)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "EVENT_RECEIVED")
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// verify answers the subscription handshake with the raw challenge.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare([]byte(token), []byte(h.cfg.VerifyToken)) != 1 {
		h.m.deliveries.WithLabelValues("bad_verify").Inc()
		http.Error(w, "verification failed", http.StatusForbidden)
		return
	}
	h.m.deliveries.WithLabelValues("verified").Inc()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, q.Get("hub.challenge"))
}

// deliver authenticates, parses and appends one delivery, and says what to
// answer.
func (h *Handler) deliver(r *http.Request) (int, string) {
	arrived := h.now()
	sig := r.Header.Get("X-Hub-Signature-256")
	if sig == "" {
		h.reject("unsigned", errors.New("delivery without X-Hub-Signature-256"))
		return http.StatusUnauthorized, "missing X-Hub-Signature-256"
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.cfg.MaxBodyBytes+1))
	if err != nil {
		return http.StatusBadRequest, "read body: " + err.Error()
	}
	if int64(len(body)) > h.cfg.MaxBodyBytes {
		h.reject("too_large", fmt.Errorf("delivery larger than %d bytes", h.cfg.MaxBodyBytes))
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.cfg.MaxBodyBytes)
	}
	if !ValidSignature(h.cfg.AppSecret, body, sig) {
		h.reject("bad_signature", errors.New("delivery with a bad X-Hub-Signature-256"))
		return http.StatusForbidden, "bad signature"
	}
	p, err := Parse(body, Networks{Facebook: h.cfg.Facebook, Instagram: h.cfg.Instagram}, arrived)
	if err != nil {
		h.reject("bad_payload", err)
		return http.StatusBadRequest, err.Error()
	}
	for reason, n := range p.Skipped {
		h.m.skipped.WithLabelValues(reason).Add(float64(n))
	}
	items := p.Items
	if len(p.Mentions) > 0 {
		fetched, err := h.fetch(r.Context(), p.Mentions)
		if err != nil {
			h.reject("fetch_failed", err)
			return http.StatusServiceUnavailable, "fetch instagram mentions: try again later"
		}
		items = append(items, fetched...)
	}
	if len(items) > 0 {
		if err := h.append.Append(r.Context(), items, arrived); err != nil {
			h.reject("append_failed", err)
			return http.StatusServiceUnavailable, "not stored: try again later"
		}
		if h.health != nil {
			h.health.Received(items)
		}
	}
	h.m.deliveries.WithLabelValues("ok").Inc()
	return http.StatusOK, ""
}

// fetch reads the Instagram mentions. A mention that is gone or refused is
// skipped; any other failure fails the delivery, so that Meta sends it again.
func (h *Handler) fetch(ctx context.Context, ms []InstagramMention) ([]listener.Item, error) {
	if h.graph == nil {
		h.m.skipped.WithLabelValues("mention_no_token").Add(float64(len(ms)))
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var items []listener.Item
	for _, m := range ms {
		mention, err := h.graph.FetchMention(ctx, m)
		if errors.Is(err, sources.ErrPermanent) {
			h.log.Warn("instagram_mention_unavailable", "media_id", m.MediaID, "comment_id", m.CommentID, "error", err)
			h.m.skipped.WithLabelValues("mention_unavailable").Inc()
			continue
		}
		if err != nil {
			return nil, err
		}
		it := listener.MentionItem(mention)
		if err := checkItem(it); err != nil {
			h.m.skipped.WithLabelValues("invalid").Inc()
			continue
		}
		items = append(items, it)
	}
	return items, nil
}

func (h *Handler) reject(result string, err error) {
	h.m.deliveries.WithLabelValues(result).Inc()
	h.log.Warn("delivery_rejected", "result", result, "error", err)
	if h.health != nil {
		h.health.Failed(fmt.Errorf("%s: %w", result, err))
	}
}

// ValidSignature reports whether header ("sha256=<hex>") is the HMAC-SHA256
// of body keyed with secret, comparing in constant time.
func ValidSignature(secret string, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value Meta sends with body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
