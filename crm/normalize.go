package crm

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// minHandleKey is the shortest normalised handle suggested on: shorter ones
// ("jo", "a1") are shared by too many strangers to mean anything.
const minHandleKey = 3

// hostedSuffixes are handle domains that host many people: on them, the
// first label is the person ("ana.bsky.social" is "ana").
var hostedSuffixes = []string{".bsky.social"}

// fold lowercases s and strips its accents (NFKD, marks removed), so that
// "Zoë" and "zoe" compare equal.
func fold(s string) string {
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// handleKey normalises a handle across networks: "@Ana_Lopez@social.example"
// (Mastodon), "ana-lopez.bsky.social" (Bluesky) and "@AnaLopez" (X) all
// become "analopez". Empty when too short to mean anything.
func handleKey(h string) string {
	h = fold(strings.TrimSpace(h))
	h = strings.TrimPrefix(h, "@")
	if i := strings.IndexByte(h, '@'); i >= 0 {
		h = h[:i] // user@instance: the user
	}
	for _, suf := range hostedSuffixes {
		h = strings.TrimSuffix(h, suf)
	}
	var b strings.Builder
	for _, r := range h {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	if b.Len() < minHandleKey {
		return ""
	}
	return b.String()
}

// nameKey normalises a display name: folded, punctuation and emoji
// dropped, words in order. A single word ("Ana") is too common to suggest
// on, so it gives "".
func nameKey(n string) string {
	words := strings.FieldsFunc(fold(n), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) < 2 {
		return ""
	}
	return strings.Join(words, " ")
}

// profileURL is the public profile page of a handle on its network, or ""
// when the network's URL scheme is unknown.
func profileURL(source, handle string) string {
	h := strings.TrimPrefix(strings.TrimSpace(handle), "@")
	if h == "" || strings.ContainsAny(h, " /?#") {
		return ""
	}
	switch source {
	case "mastodon":
		user, host, ok := strings.Cut(h, "@")
		if !ok || user == "" || host == "" {
			return ""
		}
		return "https://" + host + "/@" + user
	case "bluesky":
		return "https://bsky.app/profile/" + h
	case "x", "twitter":
		return "https://x.com/" + h
	case "facebook":
		return "https://www.facebook.com/" + h
	case "instagram":
		return "https://www.instagram.com/" + h
	}
	return ""
}

// urlKey normalises a URL for comparison: scheme, "www." and a trailing
// slash dropped, host and path lowercased, twitter.com as x.com.
func urlKey(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.TrimPrefix(strings.ToLower(u.Host), "www.")
	host = strings.TrimPrefix(host, "mobile.")
	if host == "twitter.com" {
		host = "x.com"
	}
	path := strings.TrimRight(strings.ToLower(u.Path), "/")
	if path == "" {
		return ""
	}
	return host + path
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"'()]+`)

// maxLinksPerPost bounds the links kept from one post: a profile link is
// one or two; a post with dozens is spam.
const maxLinksPerPost = 5

// linkedProfiles returns the keys of the URLs a post links to ("find me
// on https://bsky.app/profile/ana.bsky.social").
func linkedProfiles(text string) []string {
	var out []string
	for _, u := range urlPattern.FindAllString(text, maxLinksPerPost) {
		if k := urlKey(strings.TrimRight(u, ".,;:!?")); k != "" {
			out = append(out, k)
		}
	}
	return out
}
