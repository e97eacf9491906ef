package demo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textCtx holds what one mention's slots agree on: the same station, route
// and competitor wherever the template names them.
type textCtx struct {
	r       *rand.Rand
	lang    string
	source  string
	station *station
	dest    *station
	comp    int
}

func newTextCtx(r *rand.Rand, lang, source string) *textCtx {
	c := &textCtx{r: r, lang: lang, source: source}
	c.station = &stations[r.IntN(len(stations))]
	c.dest = &stations[(indexOf(c.station)+1+r.IntN(len(stations)-1))%len(stations)]
	c.comp = r.IntN(2)
	return c
}

func indexOf(s *station) int {
	for i := range stations {
		if &stations[i] == s {
			return i
		}
	}
	return 0
}

// expand fills a template: [a|b] alternatives first, then {slot}s.
func (c *textCtx) expand(t string) string {
	var b strings.Builder
	for i := 0; i < len(t); {
		switch t[i] {
		case '[':
			end := strings.IndexByte(t[i:], ']')
			if end < 0 {
				panic("demo: unclosed '[' in template " + strconv.Quote(t))
			}
			alts := strings.Split(t[i+1:i+end], "|")
			b.WriteString(c.expand(alts[c.r.IntN(len(alts))]))
			i += end + 1
		case '{':
			end := strings.IndexByte(t[i:], '}')
			if end < 0 {
				panic("demo: unclosed '{' in template " + strconv.Quote(t))
			}
			b.WriteString(c.slot(t[i+1 : i+end]))
			i += end + 1
		default:
			b.WriteByte(t[i])
			i++
		}
	}
	return b.String()
}

func (c *textCtx) list(m map[string][]string) []string {
	if l, ok := m[c.lang]; ok && len(l) > 0 {
		return l
	}
	return m["en"]
}

func (c *textCtx) pick(l []string) string { return l[c.r.IntN(len(l))] }

// slot returns a value for one {name}.
func (c *textCtx) slot(name string) string {
	r := c.r
	switch name {
	case "brand":
		forms := []string{"@velora", "@velora", "@Velora", "#Velora", "Velora", "velora", "@velora"}
		switch c.source {
		case "bluesky":
			forms = append(forms, "@velora.bsky.social")
		case "mastodon":
			forms = append(forms, "@velora@mastodon.social")
		case "facebook":
			forms = []string{"Velora", "Velora", "@Velora", "velora", "VELORA"}
		}
		return c.pick(forms)
	case "cafe":
		return c.pick([]string{"Velora Café", "Velora Café", "Velora Cafe", "café Velora", "Velora café"})
	case "station":
		return c.pick(c.station.names[c.lang])
	case "dest":
		return c.pick(c.dest.names[c.lang])
	case "city":
		return c.station.city[c.lang]
	case "train":
		n := strconv.Itoa(6100 + r.IntN(900))
		switch r.IntN(4) {
		case 0:
			return "VL " + n
		case 1:
			return "VL" + n
		case 2:
			return map[string]string{"fr": "train ", "en": "train ", "es": "tren ", "de": "Zug ", "it": "treno "}[c.lang] + n
		}
		return "Velora " + n
	case "delay":
		m := []int{10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 75, 90, 105, 120, 150, 180, 240}[r.IntN(18)]
		if m < 60 || r.IntN(3) == 0 {
			unit := map[string]string{"fr": " min", "en": " min", "es": " min", "de": " Min.", "it": " minuti"}[c.lang]
			if c.lang == "en" && r.IntN(2) == 0 {
				unit = " minutes"
			}
			return strconv.Itoa(m) + unit
		}
		if c.lang == "fr" || c.lang == "it" {
			if m%60 == 0 {
				return strconv.Itoa(m/60) + "h"
			}
			return fmt.Sprintf("%dh%02d", m/60, m%60)
		}
		if m%60 == 0 {
			if m == 60 {
				return map[string]string{"en": "1 hour", "es": "1 hora", "de": "1 Stunde"}[c.lang]
			}
			return strconv.Itoa(m/60) + map[string]string{"en": " hours", "es": " horas", "de": " Stunden"}[c.lang]
		}
		return fmt.Sprintf("%dh%02d", m/60, m%60)
	case "time":
		h, m := 5+r.IntN(18), r.IntN(12)*5
		switch c.lang {
		case "fr":
			if r.IntN(3) == 0 {
				return fmt.Sprintf("%d:%02d", h, m)
			}
			return fmt.Sprintf("%dh%02d", h, m)
		case "en":
			if r.IntN(2) == 0 {
				return fmt.Sprintf("%02d:%02d", h, m)
			}
			suffix := "am"
			if h >= 12 {
				suffix = "pm"
			}
			return fmt.Sprintf("%d:%02d%s", (h+11)%12+1, m, suffix)
		}
		return fmt.Sprintf("%d:%02d", h, m)
	case "amount":
		v := 19 + r.IntN(170)
		if r.IntN(4) == 0 {
			v = v/10*10 + 9
		}
		if c.lang == "en" && r.IntN(3) > 0 {
			return "€" + strconv.Itoa(v)
		}
		if r.IntN(2) == 0 {
			return strconv.Itoa(v) + "€"
		}
		return strconv.Itoa(v) + " €"
	case "ref":
		const alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
		var b [6]byte
		for i := range b {
			b[i] = alnum[r.IntN(len(alnum))]
		}
		return c.pick([]string{"VL-", "VL", "#", ""}) + string(b[:])
	case "day":
		return c.pick(c.list(days))
	case "tag":
		return c.pick(c.list(hashtags))
	case "comp":
		forms := [][]string{
			{"Zephyr Rail", "Zephyr Rail", "@ZephyrRail", "#ZephyrRail", "Zephyr"},
			{"RailNova", "RailNova", "@RailNova", "#RailNova", "Rail Nova"},
		}
		return c.pick(forms[c.comp])
	case "item":
		return c.pick(c.list(cafeItems))
	case "staff":
		return c.pick(c.list(staffRoles))
	case "emo_angry":
		return c.pick(emoAngry)
	case "emo_happy":
		return c.pick(emoHappy)
	case "emo_sad":
		return c.pick(emoSad)
	case "emo_q":
		return c.pick(emoQ)
	case "coin":
		return c.pick(coins)
	case "link":
		const lower = "abcdefghijkmnpqrstuvwxyz23456789"
		var b [7]byte
		for i := range b {
			b[i] = lower[r.IntN(len(lower))]
		}
		return "https://" + c.pick(domains) + string(b[:])
	case "n":
		return strconv.Itoa(1 + r.IntN(18))
	}
	panic("demo: unknown slot {" + name + "}")
}

// roughen makes a text look typed by a person: a typo, an elongated word,
// no accents, all lower or upper case. angry raises the chance of capitals.
func (c *textCtx) roughen(s string, angry bool) string {
	r := c.r
	if r.IntN(14) == 0 {
		s = swapTypo(r, s)
	}
	if r.IntN(10) == 0 {
		s = elongate(r, s)
	}
	if c.lang == "fr" && r.IntN(10) == 0 {
		s = asciiFold(s)
	}
	switch p := r.IntN(100); {
	case angry && p < 7, p < 1:
		s = strings.ToUpper(s)
	case p < 9:
		s = strings.ToLower(s)
	}
	if r.IntN(5) == 0 {
		s = strings.TrimRight(s, " ") + " " + c.pick(c.list(hashtags))
	}
	return collapseSpaces(s)
}

// swapTypo swaps two adjacent letters inside one word of four letters or more.
func swapTypo(r *rand.Rand, s string) string {
	words := strings.Fields(s)
	for range 4 {
		i := r.IntN(len(words))
		w := []rune(words[i])
		if len(w) < 4 || !allLetters(w) {
			continue
		}
		j := 1 + r.IntN(len(w)-2)
		w[j], w[j+1] = w[j+1], w[j]
		words[i] = string(w)
		return strings.Join(words, " ")
	}
	return s
}

// elongate repeats the last letter of one word: "nul" → "nulllll".
func elongate(r *rand.Rand, s string) string {
	words := strings.Fields(s)
	for range 4 {
		i := r.IntN(len(words))
		w := []rune(words[i])
		if len(w) < 2 || !allLetters(w) {
			continue
		}
		last := w[len(w)-1]
		words[i] = string(w) + strings.Repeat(string(last), 2+r.IntN(5))
		return strings.Join(words, " ")
	}
	return s
}

// allLetters reports whether w is a plain word, and not a brand's name:
// typos never hide a brand from the listeners' queries.
func allLetters(w []rune) bool {
	low := strings.ToLower(string(w))
	for _, b := range []string{"velora", "zephyr", "nova"} {
		if strings.Contains(low, b) {
			return false
		}
	}
	for _, c := range w {
		if !unicode.IsLetter(c) {
			return false
		}
	}
	return true
}

// collapseSpaces removes the double spaces an empty alternative or emoji
// leaves, keeping line breaks.
func collapseSpaces(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prevSpace := false
	for i, w := 0, 0; i < len(s); i += w {
		r, width := utf8.DecodeRuneInString(s[i:])
		w = width
		if r == ' ' {
			if prevSpace {
				continue
			}
			prevSpace = true
		} else {
			prevSpace = false
		}
		b.WriteRune(r)
	}
	return strings.ReplaceAll(strings.TrimSpace(b.String()), " ,", ",")
}
