package bluesky

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// postCollection is the NSID of posts.
const postCollection = "app.bsky.feed.post"

// validDID checks the atproto DID syntax: did:<method>:<id>, the method
// lower-case letters, the id of [A-Za-z0-9._:%-], 2 KiB at most.
func validDID(s string) bool {
	rest, ok := strings.CutPrefix(s, "did:")
	method, id, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || method == "" || id == "" || len(s) > 2048 {
		return false
	}
	for _, r := range method {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return allIn(id, "._:%-")
}

// validRKey checks the record-key syntax: 1 to 512 of [A-Za-z0-9._:~-],
// not "." or "..".
func validRKey(s string) bool {
	return len(s) >= 1 && len(s) <= 512 && s != "." && s != ".." && allIn(s, "._:~-")
}

// allIn reports whether s holds only ASCII letters, digits and extra.
func allIn(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// jetEvent is one Jetstream v1 event.
type jetEvent struct {
	DID      string     `json:"did"`
	TimeUS   int64      `json:"time_us"`
	Kind     string     `json:"kind"`
	Commit   *jetCommit `json:"commit"`
	Identity *struct {
		DID    string `json:"did"`
		Handle string `json:"handle"`
	} `json:"identity"`
	Account *struct {
		Active bool   `json:"active"`
		DID    string `json:"did"`
		Status string `json:"status"`
		Time   string `json:"time"`
	} `json:"account"`
}

type jetCommit struct {
	Rev        string          `json:"rev"`
	Operation  string          `json:"operation"`
	Collection string          `json:"collection"`
	RKey       string          `json:"rkey"`
	CID        string          `json:"cid"`
	Record     json.RawMessage `json:"record"`
}

// strongRef is com.atproto.repo.strongRef.
type strongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

// postRecord is the part of app.bsky.feed.post Vigie reads.
type postRecord struct {
	Type      string   `json:"$type"`
	Text      string   `json:"text"`
	CreatedAt string   `json:"createdAt"`
	Langs     []string `json:"langs"`
	Reply     *struct {
		Root   strongRef `json:"root"`
		Parent strongRef `json:"parent"`
	} `json:"reply"`
	Facets []struct {
		Features []struct {
			Type string `json:"$type"`
			DID  string `json:"did"`
			URI  string `json:"uri"`
			Tag  string `json:"tag"`
		} `json:"features"`
	} `json:"facets"`
}

// parseEvent reads one Jetstream frame and checks what each kind needs.
func parseEvent(data []byte) (*jetEvent, error) {
	var ev jetEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("decode jetstream event: %w", err)
	}
	if !validDID(ev.DID) {
		return nil, fmt.Errorf("decode jetstream event: did %q", ev.DID)
	}
	if ev.TimeUS <= 0 {
		return nil, errors.New("decode jetstream event: no time_us")
	}
	switch ev.Kind {
	case "commit":
		c := ev.Commit
		if c == nil || c.Collection == "" || !validRKey(c.RKey) {
			return nil, errors.New("decode jetstream commit: no collection or a bad rkey")
		}
		switch c.Operation {
		case "create", "update":
			if c.CID == "" || len(c.Record) == 0 {
				return nil, fmt.Errorf("decode jetstream commit: %s without cid or record", c.Operation)
			}
		case "delete":
		default:
			return nil, fmt.Errorf("decode jetstream commit: operation %q", c.Operation)
		}
	case "identity":
		if ev.Identity == nil {
			return nil, errors.New("decode jetstream identity: no identity")
		}
	case "account":
		if ev.Account == nil {
			return nil, errors.New("decode jetstream account: no account")
		}
	default:
		// Unknown kinds are skipped by the caller, as Jetstream asks.
	}
	return &ev, nil
}

// parsePost reads a post record.
func parsePost(raw json.RawMessage) (*postRecord, error) {
	var p postRecord
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("decode post record: %w", err)
	}
	return &p, nil
}

// createdAt returns the record's createdAt, or the event time when it is
// missing or unreadable (clients write it; it cannot be trusted).
func (p *postRecord) createdAt(timeUS int64) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, p.CreatedAt); err == nil {
		return t.UTC()
	}
	return time.UnixMicro(timeUS).UTC()
}

// mentions reports whether the post's facets mention did.
func (p *postRecord) mentions(did string) bool {
	for _, f := range p.Facets {
		for _, ft := range f.Features {
			if ft.Type == "app.bsky.richtext.facet#mention" && ft.DID == did {
				return true
			}
		}
	}
	return false
}

// answers reports whether the post replies to one of did's posts.
func (p *postRecord) answers(did string) bool {
	return p.Reply != nil && strings.HasPrefix(p.Reply.Parent.URI, "at://"+did+"/")
}

// postURI returns the AT-URI of a post.
func postURI(did, rkey string) string { return "at://" + did + "/" + postCollection + "/" + rkey }

// postURL returns the web link of a post.
func postURL(did, rkey string) string { return "https://bsky.app/profile/" + did + "/post/" + rkey }

// splitURI returns the repo, collection and rkey of an AT-URI.
func splitURI(uri string) (repo, collection, rkey string, err error) {
	rest, ok := strings.CutPrefix(uri, "at://")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("%q is not an AT-URI of a record", uri)
	}
	return parts[0], parts[1], parts[2], nil
}
