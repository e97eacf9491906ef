package demo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/vigie/vigie/listener"
)

// network knows how one social network spells ids, handles and URLs.
type network struct {
	name string
	// geo: posts may carry coordinates.
	geo bool
	// editKeepsID: an edit is the same id with a new text (on X an edit is
	// a new post, so X posts are never edited here).
	editKeepsID bool
	// conversationOnRoot: the network names the thread on every post, the
	// root included (X's conversation_id).
	conversationOnRoot bool
}

var networks = map[string]network{
	"mastodon":  {name: "mastodon", editKeepsID: true},
	"bluesky":   {name: "bluesky", editKeepsID: true},
	"x":         {name: "x", geo: true, conversationOnRoot: true},
	"facebook":  {name: "facebook", geo: true, editKeepsID: true},
	"instagram": {name: "instagram", geo: true},
}

// mastodonInstances weighs instances by author language.
var mastodonInstances = map[string][]string{
	"fr": {"mastodon.social", "piaille.fr", "mamot.fr", "framapiaf.org", "mastodon.online", "social.sciences.re"},
	"en": {"mastodon.social", "mastodon.online", "mstdn.social", "mastodon.world", "fosstodon.org", "hachyderm.io"},
	"de": {"mastodon.social", "social.tchncs.de", "chaos.social", "norden.social"},
	"es": {"mastodon.social", "mastodon.uy", "masto.es"},
	"it": {"mastodon.social", "mastodon.uno", "livellosegreto.it"},
}

// velora's own accounts and ids on each network.
const (
	veloraFacebookPage = "104857392018465"
	veloraBlueskyDID   = "did:plc:v3lora7x2qkf4m5n6b7c8d9e"
	veloraIGUser       = "17841405793187218"
	twitterEpochMillis = 1288834974657
)

const (
	base32Sortable = "234567abcdefghijklmnopqrstuvwxyz"
	base32Lower    = "abcdefghijklmnopqrstuvwxyz234567"
	base64URL      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// postID returns a new native id for a post by a on its network at t. seq is
// a counter the generator increments for each id, which keeps ids unique.
func postID(a *author, t time.Time, seq uint64) string {
	ms := uint64(t.UnixMilli())
	switch a.Source {
	case "mastodon":
		// Mastodon ids are snowflakes: milliseconds << 16 | sequence.
		return strconv.FormatUint(ms<<16|seq&0xffff, 10)
	case "bluesky":
		return "at://" + a.ID + "/app.bsky.feed.post/" + tid(uint64(t.UnixMicro()), seq)
	case "x":
		return strconv.FormatUint((ms-twitterEpochMillis)<<22|seq&0x3fffff, 10)
	case "facebook":
		// Time-based like the others, so that a restarted feed with the
		// same seed does not reuse the ids of the previous run.
		return veloraFacebookPage + "_" + strconv.FormatUint(ms*1000+seq%1000, 10)
	case "instagram":
		return strconv.FormatUint(ms*10000+seq%10000, 10)
	}
	panic("demo: unknown network " + a.Source)
}

// brandReplyID returns the id of a reply Velora's own account posted on the
// author's network, for follow-ups that answer the brand.
func brandReplyID(source string, t time.Time, seq uint64) string {
	brand := &author{Author: listener.Author{ID: veloraBlueskyDID}, Source: source}
	return postID(brand, t, seq)
}

// tid encodes a Bluesky record key: 53 bits of microseconds and 10 bits of
// clock id, in sortable base32, 13 characters.
func tid(micros, clock uint64) string {
	v := (micros&(1<<53-1))<<10 | clock&0x3ff
	var b [13]byte
	for i := 12; i >= 0; i-- {
		b[i] = base32Sortable[v&31]
		v >>= 5
	}
	return string(b[:])
}

// postURL returns the public link to post id by a.
func postURL(a *author, id string) string {
	switch a.Source {
	case "mastodon":
		user, instance := splitAcct(a.Handle)
		return "https://" + instance + "/@" + user + "/" + id
	case "bluesky":
		return "https://bsky.app/profile/" + a.Handle + "/post/" + id[strings.LastIndexByte(id, '/')+1:]
	case "x":
		return "https://x.com/" + strings.TrimPrefix(a.Handle, "@") + "/status/" + id
	case "facebook":
		page, post, _ := strings.Cut(id, "_")
		return "https://www.facebook.com/" + page + "/posts/" + post
	case "instagram":
		n, _ := strconv.ParseUint(id, 10, 64)
		return "https://www.instagram.com/p/" + shortcode(n) + "/"
	}
	return ""
}

// shortcode is Instagram's base64url spelling of a media id.
func shortcode(n uint64) string {
	var b []byte
	for n > 0 {
		b = append(b, base64URL[n&63])
		n >>= 6
	}
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func splitAcct(handle string) (user, instance string) {
	user, instance, _ = strings.Cut(strings.TrimPrefix(handle, "@"), "@")
	return user, instance
}

// authorID returns a native account id for the network.
func authorID(r *rand.Rand, source string, n int) string {
	switch source {
	case "mastodon":
		return strconv.FormatUint(109000000000000000+uint64(n)*100000+uint64(r.IntN(100000)), 10)
	case "bluesky":
		var b [24]byte
		for i := range b {
			b[i] = base32Lower[r.IntN(32)]
		}
		return "did:plc:" + string(b[:])
	case "x":
		return strconv.FormatUint(uint64(1+r.IntN(1_500_000))*1_000_000+uint64(n), 10)
	case "facebook":
		return strconv.FormatUint(6000000000000000+uint64(n)*100000+uint64(r.IntN(100000)), 10)
	case "instagram":
		return strconv.FormatUint(17841400000000000+uint64(n)*10000+uint64(r.IntN(10000)), 10)
	}
	panic("demo: unknown network " + source)
}

// handleFor spells a user name as the network shows it.
func handleFor(r *rand.Rand, source, lang, user string) string {
	switch source {
	case "mastodon":
		user = strings.ReplaceAll(user, ".", "_")
		inst := mastodonInstances[lang]
		return "@" + user + "@" + inst[r.IntN(len(inst))]
	case "bluesky":
		return strings.ReplaceAll(user, "_", "-") + ".bsky.social"
	case "x":
		return "@" + strings.ReplaceAll(user, ".", "_")
	case "facebook":
		return "" // Meta gives a name and a page-scoped id, no handle.
	case "instagram":
		return user
	}
	panic(fmt.Sprintf("demo: unknown network %q", source))
}
