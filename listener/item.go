package listener

import (
	"context"
	"time"
)

// Kind says which of its payloads an Item carries.
type Kind string

// The kinds of item a source can emit.
const (
	KindMention   Kind = "mention"
	KindCheckIn   Kind = "checkin"
	KindTombstone Kind = "tombstone"
)

// Author is the person (or account) behind a mention. Counts are zero when the
// source does not give them.
type Author struct {
	ID        string `json:"id"`
	Handle    string `json:"handle,omitempty"`
	Name      string `json:"name,omitempty"`
	Followers int64  `json:"followers,omitempty"`
	Following int64  `json:"following,omitempty"`
	Posts     int64  `json:"posts,omitempty"`
	Verified  bool   `json:"verified,omitempty"`
}

// Geo is a WGS84 point.
type Geo struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Engagement holds the public reactions to a post, when the source gives them.
type Engagement struct {
	Likes   int64 `json:"likes,omitempty"`
	Reposts int64 `json:"reposts,omitempty"`
	Replies int64 `json:"replies,omitempty"`
}

// Mention is a post that talks about the brand. (Source, ID) is its key; a
// second mention with the same key and a different text is an edit, stored as
// a new version.
type Mention struct {
	Source    string    `json:"source"`
	ID        string    `json:"id"`
	URL       string    `json:"url,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Author    Author    `json:"author"`
	Text      string    `json:"text"`
	// Lang is the language the source claims (ISO 639-1); a hint only.
	Lang string `json:"lang,omitempty"`
	// ReplyTo is the native id of the post this one answers, if any.
	ReplyTo string `json:"reply_to,omitempty"`
	// Conversation is the native id of the thread's root post, when the
	// source knows it.
	Conversation string      `json:"conversation,omitempty"`
	Geo          *Geo        `json:"geo,omitempty"`
	Engagement   *Engagement `json:"engagement,omitempty"`
}

// Key returns the mention's stable key, "source/id".
func (m *Mention) Key() string { return m.Source + "/" + m.ID }

// CheckInUser is the person who checked in.
type CheckInUser struct {
	ID     string `json:"id"`
	Handle string `json:"handle,omitempty"`
}

// Venue is the place a check-in names, when the source gives one.
type Venue struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// CheckIn is a person's declared presence at a point.
type CheckIn struct {
	Source    string      `json:"source"`
	ID        string      `json:"id"`
	CreatedAt time.Time   `json:"created_at"`
	User      CheckInUser `json:"user"`
	Lat       float64     `json:"lat"`
	Lon       float64     `json:"lon"`
	Venue     *Venue      `json:"venue,omitempty"`
}

// Tombstone is a deletion the network told us about: one post (ID set) or
// everything of an account (AuthorID set, ID empty).
type Tombstone struct {
	Source   string    `json:"source"`
	ID       string    `json:"id,omitempty"`
	AuthorID string    `json:"author_id,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
}

// Item is one thing a source hands over. Exactly one payload is set, the one
// Kind names.
type Item struct {
	Kind      Kind       `json:"kind"`
	Mention   *Mention   `json:"mention,omitempty"`
	CheckIn   *CheckIn   `json:"checkin,omitempty"`
	Tombstone *Tombstone `json:"tombstone,omitempty"`
}

// SourceName returns the name of the network the item comes from.
func (it *Item) SourceName() string {
	switch {
	case it.Mention != nil:
		return it.Mention.Source
	case it.CheckIn != nil:
		return it.CheckIn.Source
	case it.Tombstone != nil:
		return it.Tombstone.Source
	}
	return ""
}

// NativeID returns the item's id on its network ("" for an account tombstone).
func (it *Item) NativeID() string {
	switch {
	case it.Mention != nil:
		return it.Mention.ID
	case it.CheckIn != nil:
		return it.CheckIn.ID
	case it.Tombstone != nil:
		return it.Tombstone.ID
	}
	return ""
}

// MentionItem wraps m in an Item.
func MentionItem(m Mention) Item { return Item{Kind: KindMention, Mention: &m} }

// CheckInItem wraps c in an Item.
func CheckInItem(c CheckIn) Item { return Item{Kind: KindCheckIn, CheckIn: &c} }

// TombstoneItem wraps t in an Item.
func TombstoneItem(t Tombstone) Item { return Item{Kind: KindTombstone, Tombstone: &t} }

// Source is a stream of items from one network or file.
//
// Run sends items to out until ctx is done or the source is exhausted, and
// returns ctx.Err() (or nil when a finite source is exhausted). It never closes
// out. A send on out must also watch ctx.Done(), so that a stopped consumer
// never leaves Run blocked. Sources that keep a cursor advance it only after
// the consumer has committed what it was given (see Committer).
type Source interface {
	Name() string
	Run(ctx context.Context, out chan<- Item) error
}

// Committer is implemented by sources that persist a resume cursor: Commit is
// called with the items the consumer has made durable, in the order they were
// received.
type Committer interface {
	Commit(ctx context.Context, items []Item) error
}
