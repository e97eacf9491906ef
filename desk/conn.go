package desk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// Client is who is behind a websocket, as authenticated by the caller.
type Client struct {
	User string
	// Topics are the topics this user may receive.
	Topics []Topic
	// Queues, when not nil, restricts ticket and mention events to these
	// queues.
	Queues []string
	// ByCookie says the request was authenticated by a session cookie: it
	// must then come from an allowed Origin (a browser always sends one).
	ByCookie bool
}

// transport is the little of a websocket the hub needs; tests fake it.
type transport interface {
	SetReadLimit(int64)
	SetReadDeadline(time.Time) error
	SetPongHandler(func(string) error)
	ReadMessage() (int, []byte, error)
	SetWriteDeadline(time.Time) error
	// WriteFrame writes one text frame: pm is raw, prepared once for all.
	WriteFrame(raw []byte, pm *websocket.PreparedMessage) error
	WriteMessage(int, []byte) error
	Close() error
}

// wsTransport is a gorilla websocket as a transport.
type wsTransport struct{ *websocket.Conn }

func (t wsTransport) WriteFrame(_ []byte, pm *websocket.PreparedMessage) error {
	return t.WritePreparedMessage(pm)
}

// Conn is one websocket client.
type Conn struct {
	hub    *Hub
	ws     transport
	client Client
	// send carries broadcasts (batches of frames); queued counts the frames
	// in it, so that the hub can bound a client's backlog in frames.
	send   chan []*frame
	queued atomic.Int64
	// Owned by the hub goroutine.
	topics    map[Topic]bool
	replaying bool
	replayGen int
	pending   []*frame
	// replayedUpTo is the last seq a replay sent (hub-owned): an event is
	// visible in the log before its broadcast reaches the hub, so a replay
	// may have sent what is still to come live.
	replayedUpTo int64

	// liveSent holds the sequence numbers of the live frames written since
	// the last replay (owned by the write pump, at most MaxReplay), so that a
	// replay does not send again what the client already has.
	liveSent []int64
}

func (c *Conn) wants(f *frame) bool { return c.wantsWith(c.topics, f) }

// filter returns the frames of a broadcast c wants, without copying when it
// wants them all.
func (c *Conn) filter(frames []*frame) []*frame {
	n := 0
	for _, f := range frames {
		if c.wants(f) {
			n++
		}
	}
	if n == len(frames) || n == 0 {
		return frames[:n]
	}
	out := make([]*frame, 0, n)
	for _, f := range frames {
		if c.wants(f) {
			out = append(out, f)
		}
	}
	return out
}

func (c *Conn) wantsWith(topics map[Topic]bool, f *frame) bool {
	if !topics[f.topic] {
		return false
	}
	if c.client.Queues != nil && (f.topic == TopicTickets || f.topic == TopicMentions) && f.queue != "" {
		return slices.Contains(c.client.Queues, f.queue)
	}
	return true
}

// clientMessage is what a browser may send.
type clientMessage struct {
	Subscribe []Topic `json:"subscribe"`
	Since     *int64  `json:"since"`
	Presence  *struct {
		TicketID int64  `json:"ticket_id"`
		State    string `json:"state"` // viewing, typing, left
	} `json:"presence"`
}

// sendSlots bounds the broadcasts waiting for one client; the frames in
// them are bounded by HubConfig.SendQueue.
const sendSlots = 128

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4 << 10,
	WriteBufferSize: 16 << 10,
	// The origin is checked by checkOrigin before the upgrade.
	CheckOrigin: func(*http.Request) bool { return true },
}

// ErrOrigin is returned when a websocket request comes from a foreign page.
var ErrOrigin = errors.New("websocket origin not allowed")

// CheckOrigin enforces the Origin rule: a browser's Origin must be the
// server's own or an allowed one; a request without Origin (a program) is
// accepted only when not authenticated by cookie.
func (h *Hub) CheckOrigin(r *http.Request, byCookie bool) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if byCookie {
			return fmt.Errorf("%w: missing Origin", ErrOrigin)
		}
		return nil
	}
	if slices.Contains(h.cfg.AllowedOrigins, origin) {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return fmt.Errorf("%w: %q", ErrOrigin, origin)
	}
	return nil
}

// Serve upgrades the request to a websocket and serves client until it
// leaves or the hub stops. The caller has authenticated the request.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, client Client) error {
	if err := h.CheckOrigin(r, client.ByCookie); err != nil {
		return err
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader has answered the client
	}
	h.serve(wsTransport{ws}, client)
	return nil
}

func (h *Hub) serve(ws transport, client Client) {
	c := &Conn{hub: h, ws: ws, client: client, send: make(chan []*frame, sendSlots), topics: map[Topic]bool{}}
	for _, t := range client.Topics {
		c.topics[t] = true // everything allowed until the client chooses
	}
	select {
	case h.register <- c:
	case <-h.done:
		ws.Close()
		return
	}
	go c.writePump()
	c.readPump()
}

func (c *Conn) leave(reason string) {
	select {
	case c.hub.unregister <- unregistration{c, reason}:
	case <-c.hub.done:
	}
}

func (c *Conn) readPump() {
	h := c.hub
	c.ws.SetReadLimit(h.cfg.ReadLimit)
	c.ws.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	})
	// A person clicks a few times a second at most; 20 messages a second
	// with bursts of 40 leaves room for typing indicators.
	limiter := rate.NewLimiter(20, 40)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			reason := "client"
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				reason = "ping_timeout"
			} else if errors.Is(err, websocket.ErrReadLimit) {
				reason = "bad_message"
			}
			c.leave(reason)
			return
		}
		if !limiter.Allow() {
			c.leave("bad_message")
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
		h.desk.Activity(c.client.User)
		if err := c.handle(data); err != nil {
			c.leave("bad_message")
			return
		}
	}
}

var knownTopics = []Topic{TopicTickets, TopicMentions, TopicAlerts, TopicOffers, TopicKPIs, TopicPresence}

// parseClientMessage reads and validates what a browser sent; it does
// nothing else (fuzzed on its own).
func parseClientMessage(data []byte) (clientMessage, error) {
	var m clientMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("bad client message: %w", err)
	}
	if dec.More() {
		return m, errors.New("bad client message: more than one JSON value")
	}
	for _, t := range m.Subscribe {
		if !slices.Contains(knownTopics, t) {
			return m, fmt.Errorf("unknown topic %q", t)
		}
	}
	if m.Since != nil && *m.Since < 0 {
		return m, errors.New("since must not be negative")
	}
	if p := m.Presence; p != nil {
		switch p.State {
		case "viewing", "typing", "left":
		default:
			return m, fmt.Errorf("presence state %q", p.State)
		}
		if p.TicketID < 0 {
			return m, errors.New("presence ticket_id must not be negative")
		}
	}
	return m, nil
}

func (c *Conn) handle(data []byte) error {
	m, err := parseClientMessage(data)
	if err != nil {
		return err
	}
	if m.Subscribe != nil || m.Since != nil {
		topics := m.Subscribe
		if topics == nil {
			topics = c.client.Topics
		}
		select {
		case c.hub.subscribe <- subscription{c: c, topics: topics, since: m.Since}:
		case <-c.hub.done:
		}
	}
	if p := m.Presence; p != nil {
		select {
		case c.hub.presence <- presenceMsg{c: c, ticketID: p.TicketID, state: p.State}:
		case <-c.hub.done:
		}
	}
	return nil
}

func (c *Conn) writePump() {
	h := c.hub
	ping := time.NewTicker(h.cfg.PongWait * 6 / 10)
	defer func() {
		ping.Stop()
		c.ws.Close()
	}()
	for {
		select {
		case frames, ok := <-c.send:
			if !ok {
				c.ws.SetWriteDeadline(time.Now().Add(time.Second))
				c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
				return
			}
			for _, f := range frames {
				var err error
				if f.replayFrom != nil {
					err = c.replay(f)
				} else {
					err = c.write(f)
					if err == nil && f.seq > 0 {
						if len(c.liveSent) >= c.hub.cfg.MaxReplay {
							c.liveSent = c.liveSent[1:]
						}
						c.liveSent = append(c.liveSent, f.seq)
					}
				}
				c.queued.Add(-1)
				if err != nil {
					c.leave("write_error")
					c.drain()
					return
				}
			}
		case <-ping.C:
			c.ws.SetWriteDeadline(time.Now().Add(h.cfg.WriteWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.leave("write_error")
				c.drain()
				return
			}
		}
	}
}

// drain empties the send queue until the hub closes it, so that the hub
// never blocks on a dead connection.
func (c *Conn) drain() {
	for range c.send {
	}
}

func (c *Conn) write(f *frame) error {
	c.ws.SetWriteDeadline(time.Now().Add(c.hub.cfg.WriteWait))
	if err := c.ws.WriteFrame(f.raw, f.pm); err != nil {
		return err
	}
	c.hub.metrics.framesSent.Inc()
	if !f.arrived.IsZero() {
		c.hub.metrics.pipeline.Observe(time.Since(f.arrived).Seconds())
	}
	return nil
}

// replay writes the events after since that this client may see, then tells
// the hub where it stopped.
func (c *Conn) replay(ctl *frame) error {
	h := c.hub
	last := *ctl.replayFrom
	sent := 0
	already := make(map[int64]bool, len(c.liveSent))
	for _, s := range c.liveSent {
		already[s] = true
	}
	// What follows the replay is all newer than it.
	c.liveSent = c.liveSent[:0]
	for sent < h.cfg.MaxReplay {
		events, err := h.desk.ReadEvents(context.Background(), last, min(1000, h.cfg.MaxReplay-sent))
		if err != nil {
			return err
		}
		if len(events) == 0 {
			break
		}
		for i := range events {
			last = events[i].Seq
			f, err := encodeFrame(&events[i])
			if err != nil {
				return err
			}
			f.arrived = time.Time{}
			if already[f.seq] || !c.wantsWith(ctl.replayTopics, f) {
				continue
			}
			if err := c.write(f); err != nil {
				return err
			}
			sent++
		}
	}
	if sent >= h.cfg.MaxReplay {
		// Too far behind: the client reloads over HTTP and resumes from here.
		raw, _ := json.Marshal(map[string]any{"type": "resync", "seq": last, "data": map[string]string{"reason": "too many missed events"}})
		c.ws.SetWriteDeadline(time.Now().Add(h.cfg.WriteWait))
		if err := c.ws.WriteMessage(websocket.TextMessage, raw); err != nil {
			return err
		}
	}
	select {
	case h.replayed <- replayDone{c: c, gen: ctl.replayGen, lastSeq: last}:
	case <-h.done:
	}
	return nil
}
