package mastodon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/websocket"
)

// maxEventBytes bounds one stream line or websocket frame. A status is at
// most a few tens of KiB; 1 MiB leaves room for long remote posts and their
// emoji and media metadata without letting a broken server exhaust memory.
const maxEventBytes = 1 << 20

// event is one stream event: name is update, status.update, delete,
// notification...; a heartbeat has an empty name.
type event struct {
	name string
	data []byte
}

// streamConn is an open stream, read by one goroutine.
type streamConn interface {
	// next blocks for the next event or heartbeat.
	next() (event, error)
	close() error
}

// sseReader splits a text/event-stream into events. Comment lines (":)" on
// connect, ":thump" every 15 s) come out as heartbeats.
type sseReader struct {
	sc      *bufio.Scanner
	name    string
	data    bytes.Buffer
	hasData bool
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	return &sseReader{sc: sc}
}

// next returns the next event or heartbeat, io.EOF at the end of the stream.
func (r *sseReader) next() (event, error) {
	for r.sc.Scan() {
		line := r.sc.Bytes()
		if len(line) == 0 { // dispatch
			if !r.hasData {
				r.name = ""
				continue
			}
			name := r.name
			if name == "" {
				name = "message"
			}
			ev := event{name: name, data: bytes.Clone(bytes.TrimSuffix(r.data.Bytes(), []byte("\n")))}
			r.name, r.hasData = "", false
			r.data.Reset()
			return ev, nil
		}
		if line[0] == ':' {
			return event{}, nil // heartbeat
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			r.name = string(value)
		case "data":
			r.data.Write(value)
			r.data.WriteByte('\n')
			r.hasData = true
		}
		// id and retry are not used by Mastodon; unknown fields are ignored,
		// as the SSE specification says.
	}
	if err := r.sc.Err(); err != nil {
		return event{}, err
	}
	return event{}, io.EOF
}

type sseConn struct {
	body io.ReadCloser
	r    *sseReader
}

func (c *sseConn) next() (event, error) { return c.r.next() }
func (c *sseConn) close() error         { return c.body.Close() }

// streamParams returns the stream query of a configuration.
func streamParams(cfg *Config) url.Values {
	q := url.Values{"stream": {string(cfg.Stream)}}
	if cfg.Tag != "" && strings.HasPrefix(string(cfg.Stream), "hashtag") {
		q.Set("tag", cfg.Tag)
	}
	return q
}

// ssePath returns the SSE path of a stream.
func ssePath(st Stream) string {
	return "/api/v1/streaming/" + strings.ReplaceAll(string(st), ":", "/")
}

func dialSSE(ctx context.Context, cfg *Config, gate *rateGate) (streamConn, error) {
	q := url.Values{}
	if cfg.Tag != "" && strings.HasPrefix(string(cfg.Stream), "hashtag") {
		q.Set("tag", cfg.Tag)
	}
	u := cfg.StreamingURL + ssePath(cfg.Stream)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("stream request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+cfg.Token)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("connect stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, gate.responseError("connect stream", resp)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		return nil, fmt.Errorf("connect stream: content type %q, want text/event-stream", ct)
	}
	return &sseConn{body: resp.Body, r: newSSEReader(resp.Body)}, nil
}

// wsFrame is a frame of the streaming websocket.
type wsFrame struct {
	Stream  []string        `json:"stream"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Error   string          `json:"error"`
	Status  int             `json:"status"`
}

// parseWSFrame reads a websocket frame: the payload is a JSON string holding
// the Status JSON (decoded a second time by the caller) or the deleted id.
func parseWSFrame(data []byte) (event, error) {
	var f wsFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return event{}, fmt.Errorf("decode websocket frame: %w", err)
	}
	if f.Error != "" {
		return event{}, fmt.Errorf("stream error %d: %s", f.Status, f.Error)
	}
	if f.Event == "" {
		return event{}, errors.New("decode websocket frame: no event")
	}
	ev := event{name: f.Event}
	if len(f.Payload) > 0 && f.Payload[0] == '"' {
		var s string
		if err := json.Unmarshal(f.Payload, &s); err != nil {
			return event{}, fmt.Errorf("decode websocket payload: %w", err)
		}
		ev.data = []byte(s)
	} else {
		ev.data = f.Payload
	}
	return ev, nil
}

type wsConn struct {
	c *websocket.Conn
}

// errStreamRefused is a stream-level error frame ({"error":...}).
var errStreamRefused = errors.New("stream refused")

func (c *wsConn) next() (event, error) {
	for {
		typ, data, err := c.c.ReadMessage()
		if err != nil {
			return event{}, err
		}
		if typ != websocket.TextMessage {
			continue
		}
		ev, err := parseWSFrame(data)
		if err != nil {
			if strings.HasPrefix(err.Error(), "stream error") {
				return event{}, fmt.Errorf("%w: %w", errStreamRefused, err)
			}
			// A frame we cannot read: surface it as an invalid event.
			return event{name: "invalid", data: data}, nil
		}
		return ev, nil
	}
}

func (c *wsConn) close() error { return c.c.Close() }

func dialWS(ctx context.Context, cfg *Config, gate *rateGate, onPong func()) (streamConn, error) {
	u, err := url.Parse(cfg.StreamingURL + "/api/v1/streaming")
	if err != nil {
		return nil, fmt.Errorf("websocket URL: %w", err)
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.RawQuery = streamParams(cfg).Encode()
	d := websocket.Dialer{HandshakeTimeout: 30 * cfg.HeartbeatTimeout / 45, ReadBufferSize: 16 << 10}
	h := http.Header{"Authorization": {"Bearer " + cfg.Token}}
	c, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			return nil, gate.responseError("connect websocket", resp)
		}
		return nil, fmt.Errorf("connect websocket: %w", err)
	}
	c.SetReadLimit(maxEventBytes)
	c.SetPongHandler(func(string) error { onPong(); return nil })
	return &wsConn{c: c}, nil
}
