package watch

import (
	"strings"
	"unicode"

	"github.com/vigie/vigie/router"
)

// stopwords are English and French function words, folded (lower case,
// no accents) as router.Tokenize gives them, plus the debris of links.
// Hand-listed: the lists that ship with NLP libraries are large, differ
// by library, and bring a dependency for a few hundred words.
var stopwordList = `
a about above after again against all also am an and any are as at be because been before being below between both but by
can cannot could did do does doing down during each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just let me more most my myself no nor not now of off on once only or other
ought our ours ourselves out over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves im ive dont cant wont didnt doesnt isnt wasnt arent havent hasnt youre thats
get got getting go going gone still even yet one two back like really much many every via amp rt please thanks thank
hi hey hello ok okay yes yeah lol
au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les leur leurs lui ma mais me meme mes moi mon
ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l m n s t y
ete etre avoir ai as avons avez ont est sont suis es etes sommes fait faire plus tres tout tous toute toutes bien aussi
alors donc car comme quand si ni deja encore ici la cela ca ceci quoi dont mes merci bonjour salut svp stp
http https www com fr org net html amp co`

func stopwordSet(extra []string) map[string]bool {
	s := map[string]bool{}
	for _, w := range strings.Fields(stopwordList) {
		s[w] = true
	}
	for _, w := range extra {
		for _, t := range router.Tokenize(w) {
			s[t] = true
		}
	}
	return s
}

// terms returns the distinct words of text worth counting: folded, at
// least minLen letters, not stopwords, not numbers, and not taken from
// @handles or links (those say who or where, not what).
func terms(text string, stop map[string]bool, minLen int) []string {
	var skip map[string]bool
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "@") || strings.Contains(f, "://") || strings.HasPrefix(f, "www.") {
			if skip == nil {
				skip = map[string]bool{}
			}
			for _, t := range router.Tokenize(f) {
				skip[t] = true
			}
		}
	}
	toks := router.Tokenize(text)
	out := toks[:0]
	seen := make(map[string]bool, len(toks))
	for _, t := range toks {
		if seen[t] || stop[t] || skip[t] || len([]rune(t)) < minLen || !hasLetter(t) {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// excerpt returns the first n runes of text, on one line.
func excerpt(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	return strings.TrimSpace(string(r[:n])) + "…"
}

// hourBucket holds, for one hour of event time, how many posts used each
// word (document frequency) and how many posts there were.
type hourBucket struct {
	hour int64
	docs int
	df   map[string]int
}

// termBaseline keeps the last BaselineHours hours of word counts, for the
// emerging-terms detector and the top terms of explanations.
type termBaseline struct {
	ring  []hourBucket
	hours int64
	// maxHour is the newest hour seen; closed hours are pruned of words used
	// once and marked dirty for the store.
	maxHour int64
	dirty   map[int64]bool
}

func newTermBaseline(hours int) *termBaseline {
	return &termBaseline{ring: make([]hourBucket, hours+1), hours: int64(hours), dirty: map[int64]bool{}}
}

func (tb *termBaseline) bucket(hour int64, create bool) *hourBucket {
	b := &tb.ring[mod(hour, int64(len(tb.ring)))]
	if b.hour != hour {
		if !create {
			return nil
		}
		*b = hourBucket{hour: hour, df: map[string]int{}}
	}
	return b
}

// add counts one post's words in its hour.
func (tb *termBaseline) add(hour int64, words []string) {
	if hour <= tb.maxHour-tb.hours {
		return // older than the baseline reads
	}
	if hour > tb.maxHour {
		if tb.maxHour != 0 {
			for h := max(tb.maxHour, hour-tb.hours); h < hour; h++ {
				if b := tb.bucket(h, false); b != nil {
					b.df = pruned(b.df)
					tb.dirty[h] = true
				}
			}
		}
		tb.maxHour = hour
	} else if hour < tb.maxHour {
		tb.dirty[hour] = true // a late post in a closed hour
	}
	b := tb.bucket(hour, true)
	b.docs++
	for _, w := range words {
		b.df[w]++
	}
}

// pruned returns the words of a closed hour said more than once, in a map
// of their own: the long tail, words said once in an hour, is never news,
// and it is most of an hour's words (five in six of the demo's). A map
// emptied in place keeps the room of its largest size: each of the
// baseline's hours would hold the table of all its words for a day.
func pruned(df map[string]int) map[string]int {
	n := 0
	for _, c := range df {
		if c >= 2 {
			n++
		}
	}
	out := make(map[string]int, n)
	for w, c := range df {
		if c >= 2 {
			out[w] = c
		}
	}
	return out
}

// share returns, over the closed hours in [hour-hours, hour), the posts
// and the posts using each of words.
func (tb *termBaseline) stats(hour int64, words []string) (docs int, df []int) {
	df = make([]int, len(words))
	for h := hour - tb.hours; h < hour; h++ {
		b := tb.bucket(h, false)
		if b == nil {
			continue
		}
		docs += b.docs
		for i, w := range words {
			df[i] += b.df[w]
		}
	}
	return docs, df
}

// restore loads a closed hour from the store.
func (tb *termBaseline) restore(hour int64, docs int, df map[string]int) {
	b := tb.bucket(hour, true)
	b.docs, b.df = docs, df
	if hour > tb.maxHour {
		tb.maxHour = hour
	}
}

func mod(a, n int64) int64 {
	r := a % n
	if r < 0 {
		r += n
	}
	return r
}
