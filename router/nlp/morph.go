package nlp

import "strings"

// Inflection fallbacks: a word the lexicon does not hold is looked up again
// under the forms it may inflect, so that "hatin", "scammed", "annulées" or
// "décevants" find "hating", "scam", "annulé" and "décevant". Only the
// suffixes below are tried, in order, and only on words long enough that
// the stem is still a word; the first form found wins.

// minStem is the shortest stem a suffix is stripped down to.
const minStem = 3

// lookupInflected returns the valence of w's base form in res's lexicon.
func lookupInflected(res *langRes, w string) (float32, bool) {
	switch res.morph {
	case morphEnglish:
		return lookupEnglish(res.lex.words, w)
	case morphFrench:
		return lookupFrench(res.lex.words, w)
	}
	return 0, false
}

// The morphologies lookupInflected knows.
const (
	morphNone = iota
	morphEnglish
	morphFrench
)

func try(words map[string]float32, w string) (float32, bool) {
	if len(w) < minStem {
		return 0, false
	}
	v, ok := words[w]
	return v, ok && v != 0
}

// lookupEnglish tries the base forms of an English word: possessive,
// plural, third person, past, gerund (with "in'"/"in" for "-ing"), and
// adverbs in "-ly".
func lookupEnglish(words map[string]float32, w string) (float32, bool) {
	if len(w) < minStem+2 {
		return 0, false
	}
	if s, ok := strings.CutSuffix(w, "'s"); ok {
		return try(words, s)
	}
	if s, ok := strings.CutSuffix(w, "in'"); ok {
		w = s + "in"
	}
	if s, ok := strings.CutSuffix(w, "in"); ok && !strings.HasSuffix(s, "i") {
		if v, ok := try(words, s+"ing"); ok {
			return v, ok
		}
		return lookupEnglishStem(words, s)
	}
	switch {
	case strings.HasSuffix(w, "ies"):
		return try(words, w[:len(w)-3]+"y")
	case strings.HasSuffix(w, "ied"):
		return try(words, w[:len(w)-3]+"y")
	case strings.HasSuffix(w, "ily"):
		return try(words, w[:len(w)-3]+"y")
	case strings.HasSuffix(w, "ly"):
		return try(words, w[:len(w)-2])
	case strings.HasSuffix(w, "es"):
		if v, ok := try(words, w[:len(w)-1]); ok {
			return v, ok
		}
		return try(words, w[:len(w)-2])
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return try(words, w[:len(w)-1])
	case strings.HasSuffix(w, "ed"):
		if v, ok := try(words, w[:len(w)-1]); ok {
			return v, ok
		}
		return lookupEnglishStem(words, w[:len(w)-2])
	case strings.HasSuffix(w, "ing"):
		return lookupEnglishStem(words, w[:len(w)-3])
	}
	return 0, false
}

// lookupEnglishStem tries a verb stem left by "-ed" or "-ing": as is, with
// its final "e" restored, and with a doubled consonant undone.
func lookupEnglishStem(words map[string]float32, s string) (float32, bool) {
	if v, ok := try(words, s); ok {
		return v, ok
	}
	if v, ok := try(words, s+"e"); ok {
		return v, ok
	}
	if n := len(s); n > minStem && s[n-1] == s[n-2] {
		return try(words, s[:n-1])
	}
	return 0, false
}

// frenchEndings map an inflected ending onto the ending of the form a
// lexicon lists (masculine singular, or the infinitive for verbs), in the
// order tried. Words are accent-free.
var frenchEndings = [...][2]string{
	{"euses", "eux"}, {"euse", "eux"}, {"ives", "if"}, {"ive", "if"}, {"elles", "el"}, {"elle", "el"},
	{"ennes", "en"}, {"enne", "en"}, {"ettes", "et"}, {"ette", "et"}, {"aux", "al"},
	{"ees", "e"}, {"ee", "e"}, {"es", "e"}, {"es", ""}, {"s", ""}, {"x", ""}, {"e", ""},
	{"aient", "er"}, {"ait", "er"}, {"ant", "er"}, {"ent", "er"}, {"ons", "er"}, {"ez", "er"},
	{"ent", "e"}, {"e", "er"},
	// past participles agreed in gender and number ("pénalisées"), and the
	// second group's participles and present ("trahie", "réussit").
	{"ees", "er"}, {"ee", "er"}, {"es", "er"},
	{"issent", "ir"}, {"issait", "ir"}, {"ies", "ir"}, {"ie", "ir"}, {"is", "ir"}, {"it", "ir"}, {"i", "ir"},
}

// lookupFrench tries the base forms of a French word: feminine and plural
// of adjectives and participles, and the usual verb endings.
func lookupFrench(words map[string]float32, w string) (float32, bool) {
	if len(w) < minStem+2 {
		return 0, false
	}
	for _, e := range frenchEndings {
		if s, ok := strings.CutSuffix(w, e[0]); ok && len(s) >= minStem {
			if v, ok := try(words, s+e[1]); ok {
				return v, ok
			}
		}
	}
	return 0, false
}
