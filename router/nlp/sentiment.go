package nlp

import (
	"math"
	"strings"
	"unicode/utf8"
)

// emojiValence rates common emoji on VADER's scale. Written for this package
// (VADER's emoji file was not taken): faces and hands by the feeling they
// show, laughter as positive, hearts and stars positive.
var emojiValence = map[string]float32{
	"😀": 2, "😃": 2, "😄": 2.2, "😁": 2, "😆": 2, "😊": 2.2, "🙂": 1.2, "😉": 1.2, "😍": 2.8, "🥰": 2.8,
	"😘": 2.3, "😗": 1.5, "😙": 1.5, "😚": 1.8, "☺": 1.8, "😋": 1.8, "😎": 1.6, "🤩": 2.8, "🥳": 2.6,
	"👍": 1.8, "👏": 2, "🙌": 2, "💪": 1.5, "🎉": 2.3, "🎊": 2, "❤": 2.6, "💕": 2.5, "💖": 2.6, "💗": 2.5,
	"💓": 2.4, "💞": 2.4, "💘": 2.3, "💝": 2.3, "🧡": 2.4, "💛": 2.4, "💚": 2.4, "💙": 2.4, "💜": 2.4,
	"🤍": 2.2, "♥": 2.4, "✨": 1.2, "🌟": 1.5, "⭐": 1.3, "🔥": 1.3, "💯": 1.8, "🙏": 1.3, "😂": 1.5,
	"🤣": 1.6, "😅": 0.6, "👌": 1.6, "✅": 1, "🤗": 2.2, "😇": 1.8, "🥂": 1.8, "🍾": 1.8, "😻": 2.5,
	"😞": -2, "😔": -1.8, "😟": -1.8, "😕": -1.3, "🙁": -1.6, "☹": -2, "😣": -2, "😖": -2.2, "😫": -2.2,
	"😩": -2.2, "🥺": -1, "😢": -2.2, "😭": -2.2, "😤": -2, "😠": -2.6, "😡": -2.9, "🤬": -3.2, "😱": -2,
	"😨": -2, "😰": -2, "😥": -1.8, "😓": -1.5, "🤢": -2.5, "🤮": -2.8, "💩": -2, "👎": -2.2, "💔": -2.5,
	"😒": -1.8, "🙄": -1.6, "😑": -0.8, "😬": -0.8, "🤦": -1.8, "❌": -1.2, "😷": -1, "🤕": -1.5,
	"😪": -1, "🤡": -1.5, "🖕": -3, "😾": -2, "⚠": -0.8,
}

// sentiment scores tokens read with res (nil: emoji and emoticons only) and
// leaves the contributions in sc.contribs. The score is in [-1, 1].
func (a *Analyzer) sentiment(toks []token, res *langRes, sc *scratch) float64 {
	sc.contribs = sc.contribs[:0]
	words, capsWords := 0, 0
	for k := range toks {
		if toks[k].kind == kWord {
			words++
			if toks[k].caps {
				capsWords++
			}
		}
	}
	shout := capsWords == words // all capitals: capitals emphasise nothing

	var (
		sentFrom         int // first contribution of the current sentence
		seg, excl, quest int
		negLeft          int  // words still under a negation
		negStart         int  // where the negation began, for evidence
		neOpen           bool // French "ne" waiting for its particle
		never            bool // the negation is "never"/"jamais"
		boost            float32
		boostLeft        int
		conc             bool   // inside a concessive clause, until the next punctuation
		cf               bool   // inside a counterfactual clause, until the next punctuation
		sentenceStart    = true // no word yet since the last full stop
	)
	resetClause := func() { negLeft, neOpen, never, boost, boostLeft, cf = 0, false, false, 0, 0, false }
	step := func() {
		if negLeft > 0 {
			negLeft--
		}
		if boostLeft > 0 {
			boostLeft--
			if boostLeft == 0 {
				boost = 0
			}
		}
	}
	add := func(v float64, t *token, start, end int) {
		sign := 1.0
		if v < 0 {
			sign = -1
		}
		if t != nil {
			if t.caps && !shout {
				v += sign * capsIncr
			}
			if t.elong {
				v += sign * elongIncr
			}
		}
		if boostLeft > 0 {
			v += sign * float64(boost)
			boost, boostLeft = 0, 0
		}
		if negLeft > 0 || neOpen || cf {
			v *= negScalar
			if negStart < start {
				start = negStart
			}
		}
		sc.contribs = append(sc.contribs, contrib{val: v, start: start, end: end, seg: seg, conc: conc})
	}

	for i := 0; i < len(toks); i++ {
		t := &toks[i]
		switch t.kind {
		case kPunct:
			switch t.norm {
			case "!":
				excl++
			case "?":
				quest++
				for k := sentFrom; k < len(sc.contribs); k++ {
					sc.contribs[k].val *= questionScalar
				}
			}
			if t.norm != "," {
				sentFrom = len(sc.contribs)
				sentenceStart = true
			}
			resetClause()
			conc = false
			continue
		case kEmoji:
			cf, conc = false, false // emoji and hashtags stand outside the clause
			if v, ok := emojiValence[t.norm]; ok {
				sc.contribs = append(sc.contribs, contrib{val: float64(v), start: t.start, end: t.end, seg: seg, conc: conc})
			}
			continue
		case kEmoticon:
			cf, conc = false, false
			if v, ok := a.emoticons[t.norm]; ok {
				sc.contribs = append(sc.contribs, contrib{val: float64(v), start: t.start, end: t.end, seg: seg, conc: conc})
			}
			continue
		case kMention, kURL, kNumber:
			continue
		}
		if res == nil {
			continue
		}
		if t.kind == kHashtag {
			cf, conc = false, false
		}
		w := t.norm
		initial := sentenceStart
		sentenceStart = false
		// A capitalised word inside a sentence is most often a name ("United",
		// "Super Bowl", "Royal"): it carries no opinion.
		if t.title && !initial && t.kind == kWord {
			step()
			continue
		}
		if p := matchPhrase(res.lex.phrases, toks, i); p != nil {
			last := &toks[i+len(p.words)-1]
			switch {
			case p.conc:
				resetClause()
				conc = true
			case p.cf:
				// What should have been is not: the clause reverses.
				if needsParticiple(p.words) && !participleAt(toks, i+len(p.words)) {
					break // "we could have fun": a possibility, not a counterfactual
				}
				resetClause()
				cf, negStart = true, t.start
			case p.neg:
				negLeft, negStart, never = negScope+1, t.start, false
			case p.boost != 0:
				boost, boostLeft = p.boost, boostScope+1
			default:
				if p.val != 0 {
					if hasNegation(res, p.words) {
						// "ne marche plus", "pas terrible": the phrase
						// holds its negation; an open "ne" is closed by it.
						neOpen, negLeft = false, 0
					}
					add(float64(p.val), t, t.start, last.end)
					// "toujours pas", "still not": the negation goes on.
					if lw := last.norm; res.negators[lw] || res.neClosers[lw] || (res.negSuffix != "" && strings.HasSuffix(lw, res.negSuffix)) {
						negLeft, negStart, never = negScope+1, last.start, false
					}
				} else if negLeft > 0 {
					negLeft = 0 // a neutral set phrase ("no problem") absorbs the negation
				}
			}
			i += len(p.words) - 1
			step()
			continue
		}
		if res.concessive[w] {
			resetClause()
			conc = true
			step()
			continue
		}
		if res.contrast[w] {
			seg++
			resetClause()
			continue
		}
		if never && negLeft > 0 && res.neverCancel[w] {
			// "never so happy", "jamais aussi déçu": emphasis, not negation.
			negLeft, never = 0, false
			boost, boostLeft = 0.293, boostScope+1
			continue
		}
		if res.neOpener != "" && w == res.neOpener {
			if neCloses(res, toks, i+1) {
				neOpen, negStart = true, t.start
			} else if neAlone(res, toks, i+1) {
				// "ne pourra respecter", "ne cesse de": with pouvoir,
				// savoir, oser and cesser, "ne" negates on its own.
				negLeft, negStart, never = negScope+2, t.start, false
			}
			continue
		}
		if neOpen && res.neClosers[w] {
			neOpen = false
			negLeft, never = negScope+1, res.neverWords[w]
			step()
			continue
		}
		if res.negators[w] || res.shifters[w] || (res.negSuffix != "" && len(w) > len(res.negSuffix) && strings.HasSuffix(w, res.negSuffix)) {
			negLeft, negStart, never = negScope+1, t.start, res.neverWords[w]
			step()
			continue
		}
		if b, ok := res.boosters[w]; ok && nextHasValence(res, toks, i+1) {
			boost, boostLeft = b, boostScope+1
			step()
			continue
		}
		v, ok := res.lex.words[w]
		if !ok && t.elong {
			v, ok = res.lex.words[collapse(w)]
		}
		if !ok {
			v, ok = lookupInflected(res, w)
		}
		if !ok && t.kind == kHashtag {
			v, ok = hashtagValence(res, w)
		}
		if ok && v != 0 {
			add(float64(v), t, t.start, t.end)
		}
		step()
	}

	var sum float64
	for k := range sc.contribs {
		c := &sc.contribs[k]
		if seg > 0 {
			if c.seg < seg {
				c.val *= contrastPre
			} else {
				c.val *= contrastPost
			}
		}
		if c.conc {
			c.val *= contrastPre
		}
		sum += c.val
	}
	if sum != 0 {
		amp := float64(min(excl, 4)) * exclIncr
		if quest > 1 {
			amp += math.Min(float64(quest)*0.18, 0.96)
		}
		if sum > 0 {
			sum += amp
		} else {
			sum -= amp
		}
	}
	return sum / math.Sqrt(sum*sum+normAlpha)
}

// needsParticiple reports whether a counterfactual phrase ends with an
// English "have", which is counterfactual only before a past participle.
func needsParticiple(words []string) bool {
	switch words[len(words)-1] {
	case "have", "should've", "could've", "would've", "shouldve", "couldve", "wouldve":
		return true
	}
	return false
}

// irregularParticiples are common English past participles that do not end
// in "-ed".
var irregularParticiples = map[string]bool{
	"been": true, "had": true, "done": true, "gone": true, "made": true, "known": true, "seen": true,
	"got": true, "gotten": true, "taken": true, "given": true, "thought": true, "bought": true,
	"brought": true, "left": true, "won": true, "lost": true, "come": true, "said": true, "told": true,
	"felt": true, "kept": true, "heard": true, "paid": true, "sent": true, "spent": true, "built": true,
	"found": true, "put": true, "let": true, "read": true, "run": true, "written": true, "chosen": true,
	"eaten": true, "fallen": true, "forgotten": true, "driven": true, "shown": true, "broken": true,
}

// participleAt reports whether the word at toks[i] is an English past
// participle ("been", "loved", "known").
func participleAt(toks []token, i int) bool {
	if i >= len(toks) || !toks[i].isWordish() {
		return false
	}
	w := toks[i].norm
	return irregularParticiples[w] || len(w) > 3 && strings.HasSuffix(w, "ed")
}

// minTagPart is the shortest opinion word read inside a hashtag.
const minTagPart = 3

// wordPrefixes are derivational prefixes of English and French that are
// also function words or negators: a hashtag starting with one is more
// likely one derived word ("#decroissance", "#surpeche", "#nonstop") than
// two.
var wordPrefixes = map[string]bool{
	"de": true, "des": true, "dis": true, "re": true, "in": true, "im": true, "un": true, "pre": true,
	"sur": true, "sous": true, "over": true, "under": true, "anti": true, "co": true, "mal": true,
	"mis": true, "non": true, "en": true, "em": true,
}

// hashtagValence reads a hashtag the lexicon does not hold as two words run
// together: an opinion word after a negation, a booster, a function word or
// another opinion word ("#notgood", "#sohappy", "#epicfail", "#tropbien").
func hashtagValence(res *langRes, w string) (float32, bool) {
	for k := 2; k <= len(w)-minTagPart; k++ {
		if !utf8.RuneStart(w[k]) {
			continue
		}
		left, right := w[:k], w[k:]
		if wordPrefixes[left] {
			continue // "decroissance" is one word, not "de croissance"
		}
		rv, ok := res.lex.words[right]
		if !ok || rv == 0 {
			continue
		}
		switch {
		case res.negators[left]:
			return rv * negScalar, true
		case res.boosters[left] != 0:
			if rv < 0 {
				return rv - res.boosters[left], true
			}
			return rv + res.boosters[left], true
		case res.function[left]:
			return rv, true
		}
		if lv := res.lex.words[left]; lv != 0 && len(left) >= minTagPart {
			return lv + rv, true
		}
	}
	return 0, false
}

// neCloses reports whether a French "ne" is closed by a negative particle in
// its clause (within four words), and not restricted by "que".
func neCloses(res *langRes, toks []token, from int) bool {
	n := 0
	for i := from; i < len(toks) && n < 5; i++ {
		t := &toks[i]
		if t.kind == kPunct {
			return false
		}
		if !t.isWordish() {
			continue
		}
		n++
		if res.neCancel[t.norm] {
			return false
		}
		if res.neClosers[t.norm] {
			return true
		}
	}
	return false
}

// neAlone reports whether a French "ne" is followed by one of the verbs
// that it negates without a particle (pouvoir, savoir, oser, cesser), and
// not restricted by "que" in its clause.
func neAlone(res *langRes, toks []token, from int) bool {
	first := true
	for i, n := from, 0; i < len(toks) && n < 5; i++ {
		t := &toks[i]
		if t.kind == kPunct {
			return !first
		}
		if !t.isWordish() {
			continue
		}
		if first {
			if !res.neAlone[t.norm] {
				return false
			}
			first = false
		}
		n++
		if res.neCancel[t.norm] {
			return false
		}
	}
	return !first
}

// nextHasValence reports whether the next word after a booster carries an
// opinion, so that "super" boosts in "super content" but rates in "c'est super".
func nextHasValence(res *langRes, toks []token, from int) bool {
	for i := from; i < len(toks); i++ {
		t := &toks[i]
		switch {
		case t.kind == kPunct:
			return false
		case !t.isWordish():
			continue
		}
		if p := matchPhrase(res.lex.phrases, toks, i); p != nil {
			return p.val != 0 || p.boost != 0
		}
		if _, ok := res.boosters[t.norm]; ok {
			return true
		}
		v, ok := res.lex.words[t.norm]
		return ok && v != 0
	}
	return false
}

// matchPhrase returns the longest phrase of m starting at toks[i].
func matchPhrase(m map[string][]phrase, toks []token, i int) *phrase {
	list := m[toks[i].norm]
	for k := range list {
		if matchWords(list[k].words, toks, i) {
			return &list[k]
		}
	}
	return nil
}

// matchWords reports whether words occur as consecutive word tokens at i.
func matchWords(words []string, toks []token, i int) bool {
	if i+len(words) > len(toks) {
		return false
	}
	for k, w := range words {
		t := &toks[i+k]
		if !t.isWordish() || t.norm != w {
			return false
		}
	}
	return true
}

// collapse returns w with every run of a repeated letter reduced to one
// ("yess" -> "yes"), for elongated words whose two-letter form is unknown.
func collapse(w string) string {
	b := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		if i > 0 && w[i] == w[i-1] && w[i] < 0x80 {
			continue
		}
		b = append(b, w[i])
	}
	return string(b)
}

// hasNegation reports whether a phrase holds a negation word.
func hasNegation(res *langRes, words []string) bool {
	for _, w := range words {
		if res.negators[w] || res.neClosers[w] || (res.negSuffix != "" && strings.HasSuffix(w, res.negSuffix)) {
			return true
		}
	}
	return false
}
