package listener

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what one ingested item may hold. They exist so that a single bad
// item cannot take memory or storage from everything else.
const (
	// MaxTextBytes bounds a mention's text. X's long posts reach 25,000
	// characters, up to 4 bytes each in UTF-8: 128 KiB leaves room for them.
	MaxTextBytes = 128 << 10
	// MaxIDBytes bounds ids, handles and names.
	MaxIDBytes = 512
	// MaxItems bounds the items of one ingest request.
	MaxItems = 100_000
)

// ErrNotJSON is returned by the decoders when the body as a whole cannot be
// read: nothing of it is accepted.
var ErrNotJSON = errors.New("body is not a JSON array or NDJSON")

// ErrTooManyItems is returned when a request holds more than MaxItems items.
var ErrTooManyItems = fmt.Errorf("more than %d items in one request", MaxItems)

// Rejection explains why the item at Index (0-based position in the request:
// array element or NDJSON line) was not accepted.
type Rejection struct {
	Index int    `json:"index"`
	Error string `json:"error"`
	// Code classifies the rejection for programs: "invalid" (the item
	// breaks the format) or "source_not_allowed" (the credential may not
	// ingest that item's source). Empty means "invalid".
	Code string `json:"code,omitempty"`
}

// Rejection codes.
const (
	CodeInvalid          = "invalid"
	CodeSourceNotAllowed = "source_not_allowed"
)

// Decoded is one item that passed validation, with its position.
type Decoded struct {
	Index int
	Item  Item
}

var sourceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// DecodeMentions reads a JSON array or, when ndjson is true, one JSON object a
// line, and validates each mention on its own. It returns ErrNotJSON (wrapped
// with the position) when the body as a whole is unreadable.
func DecodeMentions(body []byte, ndjson bool) ([]Decoded, []Rejection, error) {
	return decodeItems(body, ndjson, decodeMention)
}

// DecodeCheckIns is DecodeMentions for check-ins.
func DecodeCheckIns(body []byte, ndjson bool) ([]Decoded, []Rejection, error) {
	return decodeItems(body, ndjson, decodeCheckIn)
}

// LooksLikeNDJSON reports whether a body without a telling Content-Type is
// NDJSON: it does not start with '['.
func LooksLikeNDJSON(body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	return len(trimmed) > 0 && trimmed[0] != '['
}

func decodeItems(body []byte, ndjson bool, one func(raw []byte) (Item, error)) ([]Decoded, []Rejection, error) {
	raws, err := splitBody(body, ndjson)
	if err != nil {
		return nil, nil, err
	}
	if len(raws) > MaxItems {
		return nil, nil, ErrTooManyItems
	}
	var (
		ok  = make([]Decoded, 0, len(raws))
		bad []Rejection
	)
	for i, raw := range raws {
		it, err := one(raw)
		if err != nil {
			bad = append(bad, Rejection{Index: i, Error: err.Error()})
			continue
		}
		ok = append(ok, Decoded{Index: i, Item: it})
	}
	return ok, bad, nil
}

// splitBody cuts the body into one raw JSON value an item. NDJSON lines are
// kept even when they are not JSON, so that they are rejected with their
// index; blank lines are not items and do not count.
func splitBody(body []byte, ndjson bool) ([][]byte, error) {
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	if ndjson {
		// Lines are sub-slices of body: no copy, and nothing reused under
		// them (a bufio.Scanner would overwrite its buffer).
		var raws [][]byte
		for rest := body; len(rest) > 0; {
			line := rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			raws = append(raws, line)
			if len(raws) > MaxItems {
				return nil, ErrTooManyItems
			}
		}
		return raws, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotJSON, jsonErrorText(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%w: expected '[' or NDJSON content type", ErrNotJSON)
	}
	var raws [][]byte
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: element %d: %s", ErrNotJSON, len(raws), jsonErrorText(err))
		}
		raws = append(raws, raw)
		if len(raws) > MaxItems {
			return nil, ErrTooManyItems
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotJSON, jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the closing ']'", ErrNotJSON)
	}
	return raws, nil
}

type wireAuthor struct {
	ID        *string `json:"id"`
	Handle    string  `json:"handle"`
	Name      string  `json:"name"`
	Followers int64   `json:"followers"`
	Following int64   `json:"following"`
	Posts     int64   `json:"posts"`
	Verified  bool    `json:"verified"`
}

type wireMention struct {
	Source       *string     `json:"source"`
	ID           *string     `json:"id"`
	URL          string      `json:"url"`
	CreatedAt    *string     `json:"created_at"`
	Author       *wireAuthor `json:"author"`
	Text         *string     `json:"text"`
	Lang         string      `json:"lang"`
	ReplyTo      string      `json:"reply_to"`
	Conversation string      `json:"conversation"`
	Geo          *Geo        `json:"geo"`
	Engagement   *Engagement `json:"engagement"`
}

func decodeStrict(raw []byte, v any) error {
	if !utf8.Valid(raw) {
		return errors.New("invalid UTF-8")
	}
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(jsonErrorText(err))
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func decodeMention(raw []byte) (Item, error) {
	var w wireMention
	if err := decodeStrict(raw, &w); err != nil {
		return Item{}, err
	}
	var m Mention
	var err error
	if m.Source, err = requireSource(w.Source); err != nil {
		return Item{}, err
	}
	if m.ID, err = requireID("id", w.ID); err != nil {
		return Item{}, err
	}
	if m.CreatedAt, err = requireTime("created_at", w.CreatedAt); err != nil {
		return Item{}, err
	}
	if w.Author == nil {
		return Item{}, errors.New("author: required")
	}
	if m.Author.ID, err = requireID("author.id", w.Author.ID); err != nil {
		return Item{}, err
	}
	m.Author.Handle, m.Author.Name = w.Author.Handle, w.Author.Name
	m.Author.Followers, m.Author.Following, m.Author.Posts = w.Author.Followers, w.Author.Following, w.Author.Posts
	m.Author.Verified = w.Author.Verified
	for _, f := range []struct {
		name, v string
	}{{"author.handle", m.Author.Handle}, {"author.name", m.Author.Name}, {"reply_to", w.ReplyTo}, {"conversation", w.Conversation}} {
		if len(f.v) > MaxIDBytes {
			return Item{}, fmt.Errorf("%s: longer than %d bytes", f.name, MaxIDBytes)
		}
	}
	if m.Author.Followers < 0 || m.Author.Following < 0 || m.Author.Posts < 0 {
		return Item{}, errors.New("author: counts must not be negative")
	}
	if w.Text == nil {
		return Item{}, errors.New("text: required")
	}
	m.Text = *w.Text
	if strings.TrimSpace(m.Text) == "" {
		return Item{}, errors.New("text: empty")
	}
	if len(m.Text) > MaxTextBytes {
		return Item{}, fmt.Errorf("text: %d bytes, longer than the %d allowed", len(m.Text), MaxTextBytes)
	}
	if len(w.URL) > 2048 {
		return Item{}, errors.New("url: longer than 2048 bytes")
	}
	m.URL = w.URL
	if w.Lang != "" && !validLang(w.Lang) {
		return Item{}, fmt.Errorf("lang: %q is not an ISO 639-1 code", w.Lang)
	}
	m.Lang = strings.ToLower(w.Lang)
	m.ReplyTo, m.Conversation = w.ReplyTo, w.Conversation
	if w.Geo != nil {
		if err := checkLatLon(w.Geo.Lat, w.Geo.Lon, "geo."); err != nil {
			return Item{}, err
		}
		g := *w.Geo
		m.Geo = &g
	}
	m.Engagement = w.Engagement
	return MentionItem(m), nil
}

type wireCheckIn struct {
	Source    *string `json:"source"`
	ID        *string `json:"id"`
	CreatedAt *string `json:"created_at"`
	User      *struct {
		ID     *string `json:"id"`
		Handle string  `json:"handle"`
	} `json:"user"`
	Lat   *float64 `json:"lat"`
	Lon   *float64 `json:"lon"`
	Venue *Venue   `json:"venue"`
}

func decodeCheckIn(raw []byte) (Item, error) {
	var w wireCheckIn
	if err := decodeStrict(raw, &w); err != nil {
		return Item{}, err
	}
	var c CheckIn
	var err error
	if c.Source, err = requireSource(w.Source); err != nil {
		return Item{}, err
	}
	if c.ID, err = requireID("id", w.ID); err != nil {
		return Item{}, err
	}
	if c.CreatedAt, err = requireTime("created_at", w.CreatedAt); err != nil {
		return Item{}, err
	}
	if w.User == nil {
		return Item{}, errors.New("user: required")
	}
	if c.User.ID, err = requireID("user.id", w.User.ID); err != nil {
		return Item{}, err
	}
	c.User.Handle = w.User.Handle
	if w.Lat == nil || w.Lon == nil {
		return Item{}, errors.New("lat, lon: required")
	}
	if err := checkLatLon(*w.Lat, *w.Lon, ""); err != nil {
		return Item{}, err
	}
	c.Lat, c.Lon = *w.Lat, *w.Lon
	c.Venue = w.Venue
	return CheckInItem(c), nil
}

func requireSource(p *string) (string, error) {
	if p == nil || *p == "" {
		return "", errors.New("source: required")
	}
	if !sourceRE.MatchString(*p) {
		return "", fmt.Errorf("source: %q must be 1-32 lower-case letters, digits, '_', '.' or '-'", truncate(*p, 40))
	}
	return *p, nil
}

func requireID(name string, p *string) (string, error) {
	if p == nil || strings.TrimSpace(*p) == "" {
		return "", fmt.Errorf("%s: required", name)
	}
	if len(*p) > MaxIDBytes {
		return "", fmt.Errorf("%s: longer than %d bytes", name, MaxIDBytes)
	}
	return *p, nil
}

func requireTime(name string, p *string) (time.Time, error) {
	if p == nil || *p == "" {
		return time.Time{}, fmt.Errorf("%s: required", name)
	}
	t, err := time.Parse(time.RFC3339Nano, *p)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: not RFC 3339", name)
	}
	return t.UTC(), nil
}

func checkLatLon(lat, lon float64, prefix string) error {
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		return fmt.Errorf("%slat: %v is outside [-90, 90]", prefix, lat)
	}
	if math.IsNaN(lon) || lon < -180 || lon > 180 {
		return fmt.Errorf("%slon: %v is outside [-180, 180]", prefix, lon)
	}
	return nil
}

func validLang(s string) bool {
	if len(s) != 2 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// jsonErrorText turns encoding/json's errors into messages that name the
// field and what was expected, without Go type names.
func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Sprintf("%s: expected %s, got %s", field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "malformed JSON: unexpected end of input"
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + rest
	}
	return strings.TrimPrefix(msg, "json: ")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int64", "int", "float64", "int32":
		return "a number"
	case "bool":
		return "true or false"
	case "struct", "ptr", "map":
		return "an object"
	case "slice":
		return "an array"
	}
	return k
}
