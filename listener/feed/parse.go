package feed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/vigie/vigie/listener"
)

// ErrFeed wraps every error of Parse: the document is not a feed.
var ErrFeed = errors.New("not an RSS, Atom or JSON feed")

// Parse reads an RSS 2.0, Atom or JSON Feed document and returns its entries
// as mentions filed under source, in document order. Entries with neither a
// title nor a text are left out. fetched stamps entries without a date.
func Parse(body []byte, source string, fetched time.Time) ([]listener.Mention, error) {
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFeed, err)
	}
	feedAuthor := feedAuthorID(f)
	lang := language(f.Language)
	out := make([]listener.Mention, 0, len(f.Items))
	for _, it := range f.Items {
		if it == nil {
			continue
		}
		text := entryText(it)
		if strings.TrimSpace(text) == "" {
			continue
		}
		m := listener.Mention{Source: source, Text: text, Lang: lang, CreatedAt: fetched.UTC()}
		switch {
		case it.PublishedParsed != nil && !it.PublishedParsed.IsZero():
			m.CreatedAt = it.PublishedParsed.UTC()
		case it.UpdatedParsed != nil && !it.UpdatedParsed.IsZero():
			m.CreatedAt = it.UpdatedParsed.UTC()
		}
		if len(it.Link) <= 2048 {
			m.URL = it.Link
		}
		m.ID = strings.TrimSpace(it.GUID)
		if m.ID == "" || len(m.ID) > listener.MaxIDBytes {
			h := sha256.Sum256([]byte(it.Link + "\x00" + it.Title + "\x00" + it.Published + "\x00" + it.GUID))
			m.ID = "sha256:" + hex.EncodeToString(h[:16])
		}
		m.Author = feedAuthor
		for _, p := range it.Authors {
			if p == nil {
				continue
			}
			if id := firstNonEmpty(p.Email, p.Name); id != "" {
				m.Author = listener.Author{ID: clip(id, listener.MaxIDBytes), Name: clip(p.Name, listener.MaxIDBytes)}
				break
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// feedAuthorID is the author of entries that name none: the feed's author,
// else its site's host, else its title.
func feedAuthorID(f *gofeed.Feed) listener.Author {
	for _, p := range f.Authors {
		if p != nil && firstNonEmpty(p.Email, p.Name) != "" {
			return listener.Author{ID: clip(firstNonEmpty(p.Email, p.Name), listener.MaxIDBytes), Name: clip(p.Name, listener.MaxIDBytes)}
		}
	}
	for _, l := range []string{f.Link, f.FeedLink} {
		if u, err := url.Parse(l); err == nil && u.Host != "" {
			return listener.Author{ID: u.Host, Name: clip(strings.TrimSpace(f.Title), listener.MaxIDBytes)}
		}
	}
	if t := strings.TrimSpace(f.Title); t != "" {
		return listener.Author{ID: clip(t, listener.MaxIDBytes), Name: clip(t, listener.MaxIDBytes)}
	}
	return listener.Author{ID: "unknown-feed"}
}

// entryText is the title and the summary (or, without one, the content),
// HTML stripped, bounded to listener.MaxTextBytes.
func entryText(it *gofeed.Item) string {
	title := StripHTML(it.Title)
	body := StripHTML(it.Description)
	if body == "" {
		body = StripHTML(it.Content)
	}
	text := title
	switch {
	case body == "" || body == title:
	case title == "":
		text = body
	default:
		text = title + "\n\n" + body
	}
	return clip(text, listener.MaxTextBytes)
}

// StripHTML returns the text of an HTML fragment: tags dropped (script and
// style with their content), entities decoded, runs of white space folded
// to one space, block ends kept as line breaks.
func StripHTML(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return foldSpace(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// io.EOF at the end; anything else is a fragment cut short:
			// keep what was read.
			return foldSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr":
				b.WriteByte('\n')
			}
		}
	}
}

// foldSpace folds white space runs to one space (or one line break when
// the run holds one) and trims the ends.
func foldSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pending := rune(0)
	for _, r := range s {
		if unicode.IsSpace(r) {
			if r == '\n' || pending == '\n' {
				pending = '\n'
			} else {
				pending = ' '
			}
			continue
		}
		if pending != 0 && b.Len() > 0 {
			b.WriteRune(pending)
		}
		pending = 0
		b.WriteRune(r)
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// language keeps a feed's language when it starts with an ISO 639-1 code
// ("fr", "en-US").
func language(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	if len(l) < 2 || (len(l) > 2 && l[2] != '-' && l[2] != '_') {
		return ""
	}
	if l[0] < 'a' || l[0] > 'z' || l[1] < 'a' || l[1] > 'z' {
		return ""
	}
	return l[:2]
}
