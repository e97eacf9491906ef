package nlp

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is what a token is.
type kind uint8

const (
	kWord     kind = iota // a word (letters, maybe digits and inner apostrophes)
	kHashtag              // a hashtag; norm is the tag without '#'
	kMention              // an @mention; ignored by every model
	kURL                  // a link; ignored by every model
	kNumber               // digits only
	kEmoji                // one emoji; norm is the emoji itself
	kEmoticon             // an ASCII emoticon such as ":-)" or "<3"
	kPunct                // one of . , ; : ! ?
	kElision              // a French elided article or pronoun (l', n', qu'), norm is its full form
)

// token is one unit of a text. norm is lower case, accent-free, with letters
// repeated three times or more collapsed to two ("soooo" -> "soo"); start and
// end are byte offsets into the original text, so evidence quotes the author.
type token struct {
	norm       string
	start, end int
	kind       kind
	caps       bool // a word of two letters or more written in capitals
	title      bool // a word of two letters or more with only its first letter in capitals
	elong      bool // a letter was repeated three times or more
}

// isWordish reports whether a token carries words (a word, hashtag or elision).
func (t *token) isWordish() bool { return t.kind == kWord || t.kind == kHashtag || t.kind == kElision }

// fold maps a lower-case rune to its accent-free form. It returns the empty
// string for runes that fold to themselves.
func fold(r rune) string {
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å':
		return "a"
	case 'ç':
		return "c"
	case 'è', 'é', 'ê', 'ë':
		return "e"
	case 'ì', 'í', 'î', 'ï':
		return "i"
	case 'ñ':
		return "n"
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø':
		return "o"
	case 'ù', 'ú', 'û', 'ü':
		return "u"
	case 'ý', 'ÿ':
		return "y"
	case 'œ':
		return "oe"
	case 'æ':
		return "ae"
	case 'ß':
		return "ss"
	}
	return ""
}

// normalize returns s lower-cased and accent-free (the form every lexicon is
// keyed by), without collapsing repeated letters.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == '’' || r == '`' || r == '´' {
			r = '\''
		}
		r = unicode.ToLower(r)
		if f := fold(r); f != "" {
			b.WriteString(f)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// elisions are the French elided forms split off a word ("n'aime" -> "ne"
// "aime"), keyed by their accent-free prefix.
var elisions = map[string]string{
	"l": "le", "d": "de", "j": "je", "n": "ne", "c": "ce", "s": "se", "m": "me",
	"t": "te", "qu": "que", "jusqu": "jusque", "lorsqu": "lorsque", "puisqu": "puisque",
}

// isEmoji reports whether r is a pictographic emoji or symbol.
func isEmoji(r rune) bool {
	return (r >= 0x1F000 && r <= 0x1FAFF && !(r >= 0x1F3FB && r <= 0x1F3FF)) ||
		(r >= 0x2600 && r <= 0x27BF) || r == 0x2B50 || r == 0x2B55 || r == 0x2764 || r == 0x2639 || r == 0x263A
}

// tokenizer splits texts. It holds a reusable buffer; it is not safe for
// concurrent use (the Analyzer pools them).
type tokenizer struct {
	buf  []byte
	toks []token
	// spans of norm in buf, resolved to strings once the text is done.
	spans     [][2]int
	emoticons map[string]bool
}

// tokenize splits text into tokens. The returned slice is valid until the
// next call.
func (tz *tokenizer) tokenize(text string) []token {
	tz.buf = tz.buf[:0]
	tz.toks = tz.toks[:0]
	tz.spans = tz.spans[:0]
	i := 0
	for i < len(text) {
		r, w := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			i += w
			continue
		}
		j := i
		for j < len(text) {
			r, w := utf8.DecodeRuneInString(text[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += w
		}
		tz.chunk(text, i, j)
		i = j
	}
	if len(tz.toks) == 0 {
		return tz.toks
	}
	all := string(tz.buf) // one allocation per text
	for k := range tz.toks {
		if sp := tz.spans[k]; sp[1] > sp[0] {
			tz.toks[k].norm = all[sp[0]:sp[1]]
		}
	}
	return tz.toks
}

// add appends a token whose norm is buf[from:].
func (tz *tokenizer) add(t token, from int) {
	tz.toks = append(tz.toks, t)
	tz.spans = append(tz.spans, [2]int{from, len(tz.buf)})
}

// addLiteral appends a token whose norm is s.
func (tz *tokenizer) addLiteral(t token, s string) {
	from := len(tz.buf)
	tz.buf = append(tz.buf, s...)
	tz.add(t, from)
}

// chunk splits one whitespace-free chunk text[i:j].
func (tz *tokenizer) chunk(text string, i, j int) {
	c := text[i:j]
	switch {
	case hasPrefixFold(c, "http://") || hasPrefixFold(c, "https://") || hasPrefixFold(c, "www.") ||
		strings.EqualFold(c, "http") || strings.EqualFold(c, "https"): // corpora mask links as "http"
		tz.add(token{start: i, end: j, kind: kURL}, len(tz.buf))
		return
	case len(c) > 1 && c[0] == '@':
		// A handle is letters, digits and underscores; what follows
		// ("@airline." or "@user:") is read as text.
		k := 1
		for k < len(c) && (isLetterByte(c[k]) || c[k] >= '0' && c[k] <= '9' || c[k] == '_') {
			k++
		}
		if k > 1 {
			tz.add(token{start: i, end: i + k, kind: kMention}, len(tz.buf))
			if i+k < j {
				tz.words(text, i+k, j)
			}
			return
		}
	}
	if tz.emoticons[c] {
		tz.addLiteral(token{start: i, end: j, kind: kEmoticon}, c)
		return
	}
	// Trailing emoticon glued to punctuation-free text is rare; a chunk that
	// ends with one after a word ("great:)") is split here.
	// An emoticon that starts with a letter ("d:", "xd") is never split off a
	// word: "Reuters:" holds no "s:".
	for _, n := range [...]int{3, 2} {
		if len(c) > n && tz.emoticons[c[len(c)-n:]] && !isLetterByte(c[len(c)-n]) &&
			(isLetterByte(c[len(c)-n-1]) || c[len(c)-n-1] == '.' || c[len(c)-n-1] == '!') {
			tz.words(text, i, j-n)
			tz.addLiteral(token{start: j - n, end: j, kind: kEmoticon}, c[len(c)-n:])
			return
		}
	}
	tz.words(text, i, j)
}

func isLetterByte(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// words splits text[i:j] into words, hashtags, emoji and punctuation.
func (tz *tokenizer) words(text string, i, j int) {
	var (
		inWord     bool
		from       int // start of the current word's norm in buf
		start      int // byte offset of the current word in text
		hashtag    bool
		pendingTag bool
		upper      int
		firstUpper bool
		letters    int
		digitsOnly bool
		elong      bool
		last       rune // last normalized rune written
		run        int  // how many times last was repeated
	)
	end := func(at int) {
		if !inWord {
			return
		}
		inWord = false
		if len(tz.buf) == from {
			return
		}
		k := kWord
		switch {
		case hashtag:
			k = kHashtag
		case digitsOnly:
			k = kNumber
		}
		tz.add(token{start: start, end: at, kind: k, caps: letters >= 2 && upper == letters,
			title: letters >= 2 && firstUpper && upper == 1, elong: elong}, from)
	}
	for p := i; p < j; {
		r, w := utf8.DecodeRuneInString(text[p:])
		if r == '’' || r == '`' || r == '´' {
			r = '\''
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if !inWord {
				inWord, from, start = true, len(tz.buf), p
				hashtag, pendingTag = pendingTag, false
				upper, firstUpper, letters, digitsOnly, elong, last, run = 0, false, 0, true, false, 0, 0
			}
			if unicode.IsLetter(r) {
				letters++
				digitsOnly = false
				if unicode.IsUpper(r) {
					if letters == 1 {
						firstUpper = true
					}
					upper++
				}
			}
			lr := unicode.ToLower(r)
			if lr == last {
				run++
			} else {
				last, run = lr, 1
			}
			if run >= 3 && unicode.IsLetter(r) {
				elong = true
				break
			}
			if f := fold(lr); f != "" {
				tz.buf = append(tz.buf, f...)
			} else {
				tz.buf = utf8.AppendRune(tz.buf, lr)
			}
		case r == '\'' && inWord:
			if rep, ok := elisions[string(tz.buf[from:])]; ok && !hashtag {
				tz.buf = tz.buf[:from]
				tz.buf = append(tz.buf, rep...)
				tz.add(token{start: start, end: p + w, kind: kElision}, from)
				inWord = false
				break
			}
			// An inner apostrophe ("don't") stays; a final one is dropped.
			if p+w < j {
				if nr, _ := utf8.DecodeRuneInString(text[p+w:]); unicode.IsLetter(nr) {
					tz.buf = append(tz.buf, '\'')
					last, run = '\'', 1
					break
				}
			}
			end(p)
		case r == '#' && !inWord:
			pendingTag = true
		case isEmoji(r):
			end(p)
			tz.addLiteral(token{start: p, end: p + w, kind: kEmoji}, text[p:p+w])
		case r == '!' || r == '?' || r == '.' || r == ',' || r == ';' || r == ':' || r == '…' || r == '¿' || r == '¡':
			end(p)
			s := text[p : p+w]
			if r == '…' {
				s = "."
			}
			tz.addLiteral(token{start: p, end: p + w, kind: kPunct}, s)
		default:
			end(p)
		}
		p += w
	}
	end(j)
}
