package desk

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/vigie/vigie/desk/assign"
)

// Hub pushes events to the browsers over websockets.
//
// One goroutine (Run) owns the index of connections and their
// subscriptions; registering, unregistering, subscribing and broadcasting are
// messages to it. An event is encoded once per broadcast, as a prepared
// websocket frame shared by every connection. Each connection has a bounded
// send queue: a client that cannot keep up is disconnected and counted, never
// waited for.
//
// A client that resumes with "since" gets the events it missed from the
// event log first (its write pump reads them), while the hub holds back the
// live events for it; then the held-back events newer than the history
// follow, so that nothing is missed or sent twice.
type Hub struct {
	cfg     HubConfig
	desk    *Desk
	log     *slog.Logger
	metrics *metrics

	register   chan *Conn
	unregister chan unregistration
	subscribe  chan subscription
	replayed   chan replayDone
	bcast      chan []*frame
	presence   chan presenceMsg
	done       chan struct{}

	// Owned by Run.
	conns   map[*Conn]struct{}
	viewers map[int64]map[*Conn]string
	// users counts each user's connections: the first one opening and the
	// last one closing are the agent's presence.
	users map[string]int
}

// frame is one encoded event, shared by every connection it goes to.
type frame struct {
	seq     int64
	topic   Topic
	queue   string
	raw     []byte
	pm      *websocket.PreparedMessage
	arrived time.Time // set on ticket frames of mentions that arrived in this process
	// replayFrom, when not nil, is a control frame: the write pump sends the
	// history after *replayFrom before anything else.
	replayFrom *int64
	// replayTopics and replayGen go with replayFrom: the subscription the
	// history is filtered by, and which subscription it answers.
	replayTopics map[Topic]bool
	replayGen    int
}

type unregistration struct {
	c      *Conn
	reason string
}

type subscription struct {
	c      *Conn
	topics []Topic
	since  *int64
}

type replayDone struct {
	c       *Conn
	gen     int
	lastSeq int64
}

type presenceMsg struct {
	c        *Conn
	ticketID int64
	state    string
}

func newHub(cfg HubConfig, d *Desk, logger *slog.Logger, m *metrics) *Hub {
	return &Hub{
		cfg: cfg, desk: d, log: logger.With("component", "hub"), metrics: m,
		register:   make(chan *Conn),
		unregister: make(chan unregistration, 64),
		subscribe:  make(chan subscription, 64),
		replayed:   make(chan replayDone, 64),
		bcast:      make(chan []*frame, 4096),
		presence:   make(chan presenceMsg, 256),
		done:       make(chan struct{}),
		conns:      map[*Conn]struct{}{},
		viewers:    map[int64]map[*Conn]string{},
		users:      map[string]int{},
	}
}

func encodeFrame(e *Event) (*frame, error) {
	raw, err := marshalEvent(e)
	if err != nil {
		return nil, err
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, raw)
	if err != nil {
		return nil, err
	}
	f := &frame{seq: e.Seq, topic: e.Topic, queue: e.Queue, raw: raw, pm: pm}
	if e.Type == EventTicketCreated || e.Type == EventTicketUpdated {
		f.arrived = e.arrived
	}
	return f, nil
}

// marshalEvent is json.Marshal(e), written directly: e.Data is already
// compact JSON of the desk's own making, and encoding/json would check and
// copy it again for every frame (2 % of the CPU at full speed). Anything
// unusual goes through encoding/json.
func marshalEvent(e *Event) ([]byte, error) {
	if !plainName(string(e.Type)) || len(e.Data) == 0 || e.At.Year() < 0 || e.At.Year() > 9999 {
		return json.Marshal(e)
	}
	b := make([]byte, 0, len(e.Data)+len(e.Type)+72)
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"type":"`...)
	b = append(b, e.Type...)
	b = append(b, `","at":"`...)
	b = e.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	b = append(b, e.Data...)
	return append(b, '}'), nil
}

// plainName reports whether s needs no escaping in a JSON string.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// broadcast hands committed events to the hub goroutine. It is called in
// commit order, under the desk's write lock.
func (h *Hub) broadcast(events []Event) {
	frames := make([]*frame, 0, len(events))
	for i := range events {
		f, err := encodeFrame(&events[i])
		if err != nil {
			h.log.Error("encode_event_failed", "error", err, "seq", events[i].Seq)
			continue
		}
		frames = append(frames, f)
	}
	select {
	case h.bcast <- frames:
	case <-h.done:
	}
	h.metrics.broadcastQueue.Set(float64(len(h.bcast)))
}

// Run owns the connections until ctx is done, then closes them all.
func (h *Hub) Run(ctx context.Context) error {
	defer close(h.done)
	for {
		select {
		case <-ctx.Done():
			for c := range h.conns {
				h.drop(c, "shutdown")
			}
			return ctx.Err()
		case c := <-h.register:
			h.conns[c] = struct{}{}
			h.metrics.connections.Inc()
			if h.users[c.client.User]++; h.users[c.client.User] == 1 {
				h.desk.presence(c.client.User, assign.Online)
			}
		case u := <-h.unregister:
			h.drop(u.c, u.reason)
		case s := <-h.subscribe:
			h.onSubscribe(s)
		case r := <-h.replayed:
			h.onReplayed(r)
		case p := <-h.presence:
			h.onPresence(p)
		case frames := <-h.bcast:
			h.fanOut(frames)
		}
	}
}

// fanOut queues a broadcast for every connection that wants some of it.
func (h *Hub) fanOut(frames []*frame) {
	for c := range h.conns {
		sel := c.filter(frames)
		if c.replayedUpTo > 0 && len(sel) > 0 {
			sel = afterSeq(sel, c.replayedUpTo)
			for _, f := range sel {
				if f.seq != 0 {
					c.replayedUpTo = 0 // broadcasts come in seq order: the rest is newer
					break
				}
			}
		}
		if len(sel) == 0 {
			continue
		}
		if c.replaying {
			if len(c.pending)+len(sel) > h.cfg.MaxReplay {
				h.drop(c, "slow")
				continue
			}
			c.pending = append(c.pending, sel...)
			continue
		}
		h.enqueue(c, sel)
	}
}

// afterSeq returns the frames newer than seq (persisted ones; live-only
// frames, seq 0, always pass).
func afterSeq(frames []*frame, seq int64) []*frame {
	for i, f := range frames {
		if f.seq != 0 && f.seq <= seq {
			out := append([]*frame(nil), frames[:i]...)
			for _, g := range frames[i+1:] {
				if g.seq == 0 || g.seq > seq {
					out = append(out, g)
				}
			}
			return out
		}
	}
	return frames
}

// enqueue queues frames for c without ever blocking; a client that already
// has SendQueue frames waiting is disconnected.
func (h *Hub) enqueue(c *Conn, frames []*frame) bool {
	if c.queued.Load()+int64(len(frames)) > int64(h.cfg.SendQueue) {
		h.drop(c, "slow")
		return false
	}
	c.queued.Add(int64(len(frames)))
	select {
	case c.send <- frames:
		return true
	default:
		h.drop(c, "slow")
		return false
	}
}

func (h *Hub) drop(c *Conn, reason string) {
	if _, ok := h.conns[c]; !ok {
		return
	}
	delete(h.conns, c)
	close(c.send)
	if h.users[c.client.User]--; h.users[c.client.User] <= 0 {
		delete(h.users, c.client.User)
		h.desk.presence(c.client.User, assign.Offline)
	}
	// The reason first: whoever sees the connection gone sees why.
	h.metrics.disconnects.WithLabelValues(reason).Inc()
	h.metrics.connections.Dec()
	for id, vs := range h.viewers {
		if _, ok := vs[c]; ok {
			delete(vs, c)
			h.sendPresence(id)
		}
	}
}

func (h *Hub) onSubscribe(s subscription) {
	c := s.c
	if _, ok := h.conns[c]; !ok {
		return
	}
	c.topics = map[Topic]bool{}
	for _, t := range s.topics {
		if slices.Contains(c.client.Topics, t) {
			c.topics[t] = true
		}
	}
	if s.since == nil {
		return
	}
	c.replaying = true
	c.replayGen++
	c.pending = c.pending[:0]
	since := *s.since
	h.enqueue(c, []*frame{{replayFrom: &since, replayTopics: maps.Clone(c.topics), replayGen: c.replayGen}})
}

func (h *Hub) onReplayed(r replayDone) {
	c := r.c
	if _, ok := h.conns[c]; !ok || r.gen != c.replayGen {
		return // gone, or a newer subscription is replaying
	}
	c.replaying = false
	c.replayedUpTo = r.lastSeq
	pending := c.pending
	c.pending = nil
	var newer []*frame
	for _, f := range pending {
		if f.seq > r.lastSeq {
			newer = append(newer, f)
		}
	}
	if len(newer) > 0 {
		h.enqueue(c, newer)
	}
}

// PresenceData is the payload of a presence event: who is looking at or
// typing on a ticket.
type PresenceData struct {
	TicketID int64             `json:"ticket_id"`
	Viewers  map[string]string `json:"viewers"` // user → viewing | typing
}

func (h *Hub) onPresence(p presenceMsg) {
	if _, ok := h.conns[p.c]; !ok {
		return
	}
	// A connection looks at one ticket at a time.
	for id, vs := range h.viewers {
		if _, ok := vs[p.c]; ok && id != p.ticketID {
			delete(vs, p.c)
			h.sendPresence(id)
		}
	}
	if p.ticketID == 0 {
		return
	}
	vs := h.viewers[p.ticketID]
	if vs == nil {
		vs = map[*Conn]string{}
		h.viewers[p.ticketID] = vs
	}
	if p.state == "left" {
		delete(vs, p.c)
	} else {
		vs[p.c] = p.state
	}
	h.sendPresence(p.ticketID)
}

func (h *Hub) sendPresence(ticketID int64) {
	vs := h.viewers[ticketID]
	data := PresenceData{TicketID: ticketID, Viewers: map[string]string{}}
	for c, st := range vs {
		if prev, ok := data.Viewers[c.client.User]; !ok || prev != "typing" {
			data.Viewers[c.client.User] = st
		}
	}
	if len(vs) == 0 {
		delete(h.viewers, ticketID)
	}
	raw, _ := json.Marshal(data)
	f, err := encodeFrame(&Event{Type: EventPresence, At: time.Now().UTC(), Topic: TopicPresence, Data: raw})
	if err != nil {
		return
	}
	for c := range h.conns {
		if c.topics[TopicTickets] && !c.replaying {
			h.enqueue(c, []*frame{f})
		}
	}
}
