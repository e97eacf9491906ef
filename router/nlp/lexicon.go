package nlp

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The lexicons ship inside the binary, each next to its license:
//   - lexicon/en/vader_lexicon.txt: VADER (Hutto & Gilbert 2014), MIT.
//   - lexicon/fr/vader_fr_lexicon.txt: VADER translated to French
//     (vader_FR, 7LieuesTechnologies), MIT.
//   - lexicon/fr/fr-sentiment.xml: Pattern's French adjectives (De Smedt &
//     Daelemans 2012), PDDL, carried by textblob-fr (MIT, NOTICE kept).
//
//go:embed lexicon
var lexiconFS embed.FS

// patternScale maps a Pattern polarity in [-1,1] onto VADER's valence scale
// (about -4..4). On the 1,418 forms in both lexicons, VADER-FR's ratings are
// about 3.8 times Pattern's polarity; 3 keeps Pattern's entries, mostly
// inferred rather than hand-tagged, a little weaker than hand ratings.
const patternScale = 3.0

// patternWeight is Pattern's share when both French lexicons rate a word:
// VADER-FR's ratings are hand-made but translated from English, Pattern's
// are French but mostly inferred, so the hand ratings weigh more. On the
// French training split, macro-F1 is flat from 0 to 0.5 (0.623–0.625) and
// falls at 1 (0.616).
const patternWeight = 0.3

// patternMinPolarity drops Pattern entries too weak to carry an opinion;
// most of them are inferred (confidence 0.7) rather than hand-tagged.
const patternMinPolarity = 0.1

// patternMinSubjectivity drops Pattern entries that Pattern itself marks as
// objective: "français", "social", "humain", "droite" describe rather than
// judge, and their small polarity is noise in a text about those topics.
// Pattern's inferred entries (confidence 0.7) sometimes carry a negative
// subjectivity; its magnitude is read. On the French training split,
// macro-F1 is 0.637 with every entry kept and 0.644–0.645 for thresholds from
// 0.3 to 0.5.
const patternMinSubjectivity = 0.3

// phrase is a sequence of tokens that is read as one unit: a valence
// ("still waiting"), a modifier ("kind of") or a negation ("no one").
type phrase struct {
	words []string
	val   float32 // valence on VADER's scale; 0 with boost or neg set
	boost float32 // intensity added to the next opinion word
	neg   bool    // negates what follows
	conc  bool    // opens a concessive clause ("although", "bien que")
	cf    bool    // opens a counterfactual clause ("should have", "aurait dû")
}

// lexicon is the opinion vocabulary of one language.
type lexicon struct {
	words   map[string]float32  // unigram valences, keyed by token norm
	phrases map[string][]phrase // multi-token entries, keyed by first token, longest first
}

func newLexicon() *lexicon {
	return &lexicon{words: make(map[string]float32, 16384), phrases: make(map[string][]phrase)}
}

// norms tokenizes an entry the way texts are tokenized, so that "n'importe
// quoi" or "bien-être" match what the tokenizer makes of a post.
func norms(tz *tokenizer, entry string) []string {
	toks := tz.tokenize(entry)
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.norm != "" && t.kind != kPunct {
			out = append(out, t.norm)
		}
	}
	return out
}

// set adds or replaces an entry. With keep, an existing entry wins.
func (lx *lexicon) set(tz *tokenizer, entry string, p phrase, keep bool) {
	ws := norms(tz, entry)
	switch len(ws) {
	case 0:
		return
	case 1:
		if p.boost != 0 || p.neg || p.conc || p.cf {
			break // modifiers live in the phrase table, even single words
		}
		if len(ws[0]) < 2 {
			return // a single letter ("s", "v", "l" in the lexicons) carries no opinion
		}
		if _, ok := lx.words[ws[0]]; ok && keep {
			return
		}
		lx.words[ws[0]] = p.val
		return
	}
	p.words = ws
	list := lx.phrases[ws[0]]
	for i := range list {
		if equalWords(list[i].words, ws) {
			if !keep {
				list[i] = p
			}
			return
		}
	}
	list = append(list, p)
	sort.SliceStable(list, func(i, j int) bool { return len(list[i].words) > len(list[j].words) })
	lx.phrases[ws[0]] = list
}

func equalWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// isEmoticonKey reports whether a lexicon key is an emoticon rather than a
// word: it holds a sign other than an apostrophe or a hyphen between letters.
func isEmoticonKey(k string) bool {
	letters := 0
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80:
			letters++
		case r == '\'' || r == '-':
		default:
			return true
		}
	}
	return letters == 0
}

// loadVADER reads VADER's format: token TAB mean TAB sd TAB ratings.
func loadVADER(tz *tokenizer, data []byte, lx *lexicon, emoticons map[string]float32) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) < 2 {
			return fmt.Errorf("line %d: want token TAB valence", n)
		}
		v, err := strconv.ParseFloat(f[1], 32)
		if err != nil {
			return fmt.Errorf("line %d: valence %q: %w", n, f[1], err)
		}
		if isEmoticonKey(f[0]) {
			emoticons[f[0]] = float32(v)
			continue
		}
		lx.set(tz, f[0], phrase{val: float32(v)}, true)
	}
	return sc.Err()
}

// loadVADERFR reads vader_FR's format: token->valence (split on the last
// "->": emoticon keys hold "-").
func loadVADERFR(tz *tokenizer, data []byte, lx *lexicon) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		i := strings.LastIndex(line, "->")
		if i <= 0 {
			return fmt.Errorf("line %d: want token->valence", n)
		}
		key, val := line[:i], line[i+2:]
		v, err := strconv.ParseFloat(val, 32)
		if err != nil {
			return fmt.Errorf("line %d: valence %q: %w", n, val, err)
		}
		if isEmoticonKey(key) {
			continue // the emoticons are VADER's, already loaded
		}
		lx.set(tz, key, phrase{val: float32(v)}, true)
	}
	return sc.Err()
}

// loadPattern reads Pattern's XML, one <word .../> element per line, adding
// the adjectives VADER-FR does not have.
func loadPattern(tz *tokenizer, data []byte, lx *lexicon) error {
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if !strings.Contains(line, "<word ") {
			continue
		}
		form, ok1 := attr(line, "form")
		pol, ok2 := attr(line, "polarity")
		if !ok1 || !ok2 {
			return fmt.Errorf("line %d: word without form or polarity", n)
		}
		p, err := strconv.ParseFloat(pol, 32)
		if err != nil {
			return fmt.Errorf("line %d: polarity %q: %w", n, pol, err)
		}
		if p > -patternMinPolarity && p < patternMinPolarity {
			continue
		}
		if sub, ok := attr(line, "subjectivity"); ok {
			sv, err := strconv.ParseFloat(sub, 32)
			if err != nil {
				return fmt.Errorf("line %d: subjectivity %q: %w", n, sub, err)
			}
			if math.Abs(sv) < patternMinSubjectivity {
				continue
			}
		}
		pv := float32(p * patternScale)
		if ws := norms(tz, form); len(ws) == 1 && patternWeight > 0 {
			if v, ok := lx.words[ws[0]]; ok && !seen[ws[0]] {
				seen[ws[0]] = true
				lx.words[ws[0]] = (1-patternWeight)*v + patternWeight*pv
				continue
			}
		}
		lx.set(tz, form, phrase{val: pv}, true)
	}
	return sc.Err()
}

// attr returns the value of name="..." in an XML element on one line.
func attr(line, name string) (string, bool) {
	i := strings.Index(line, " "+name+`="`)
	if i < 0 {
		return "", false
	}
	rest := line[i+len(name)+3:]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return rest[:j], true
}
