package nlp

import (
	"math/bits"
	"strings"
	"unicode"
)

// The languages the detector tells apart by their words. Others are told by
// their script only (see scriptLang).
const (
	langEN = iota
	langFR
	langES
	langDE
	langIT
	langPT
	langNL
	nLangs
)

// langCodes are the ISO 639-1 codes of the languages above, in order.
var langCodes = [nLangs]string{"en", "fr", "es", "de", "it", "pt", "nl"}

// Undetermined is the ISO 639 code for a language the detector cannot tell.
const Undetermined = "und"

// functionWords are, per language, frequent function words (articles,
// pronouns, prepositions, auxiliaries, negations, conjunctions) and a few
// words typical of social posts, written accent-free as tokens are. They were
// written for this detector from general knowledge of each language; words
// shared by several languages split their weight between them.
var functionWords = [nLangs]string{
	langEN: `a the and is are was were be been being have has had does did doing of to for with this that these those
		it its it's i i'm im i've i'll i'd you you're your yours he he's she she's we we're they they're them their our my
		his him her hers what which who whom whose when where why how not no nor but or if then than so just can can't cannot
		will won't would wouldn't should shouldn't could couldn't don't dont doesn't didn't isn't aren't wasn't weren't haven't
		hasn't about from by up out there here all any some get got an as into too very really because after before again
		still today now going gonna wanna gotta thanks thank lol omg my me myself yourself yeah yes please just only also
		at on off over under been something anything nothing everything one would there's that's what's let's did do`,
	langFR: `le la les un une des du de et est sont je tu il elle on nous vous ils elles mon ma mes ton ta tes son sa ses
		notre votre nos vos leur leurs ce cet cette ces qui que quoi dans sur pour par avec sans mais ou donc car ne pas
		plus tres tout tous toute toutes aussi bien deja encore toujours jamais rien ete etre avoir fait faire au aux y en
		ai avez avons ont suis etes sommes comme quand comment pourquoi chez merci oui non moi toi lui ca cela ceci voila
		vraiment alors apres avant depuis pendant parce meme peu trop beaucoup autre sont aujourd'hui hui c'est fois
		cest jai faut peut ici voici veux vais va vont avait etait sera serait quelle quel quels quelles aucun aucune`,
	langES: `el la los las un una unos unas de del y e o que en es son fue ser estar esta este estos esto eso ese esa
		estoy estan hay muy mas pero por para con sin como cuando donde porque pues ya tambien todo todos nada nunca
		siempre mi mis tu tus su sus yo nosotros ellos ella lo le les se me te nos al hoy bien gracias hola si no ni aqui
		ahora tengo tiene tienen hacer hace puede quiero gusta muchas mucho estas asi solo otra otro fueron sido hemos
		han he has ha usted ustedes vamos voy va entonces algo alguien cual`,
	langDE: `der die das den dem des ein eine einen einem einer und oder aber nicht kein keine ist sind war waren bin bist
		hat haben habe hast wird werden wurde ich du er sie es wir ihr mich mir dich dir uns euch mein meine dein sein
		ihre mit von zu zum zur auf fur bei nach aus uber unter vor an im am um auch noch schon nur sehr wie was wer wo
		warum wann dass wenn weil so doch mal jetzt heute hier da dann immer nie nichts gut danke bitte ja nein kann
		konnen muss mehr viel alles diese dieser dieses ganz gibt geht man wieder einfach`,
	langIT: `il lo la i gli le un uno una di del della dei delle dello degli da dal dalla in nel nella su sul sulla per
		con tra fra e ed o ma che non sono sei siamo ho hai ha abbiamo hanno era essere avere questo questa quello quella
		mi ti ci vi si io tu lui lei noi voi loro mio mia tuo tua suo sua anche ancora sempre mai piu molto tanto tutto
		tutti come quando dove perche cosa chi gia oggi grazie ciao bene no solo poi allora qui qua fatto fare ogni
		niente nulla sempre questi quelli cui essere stato stata sia`,
	langPT: `o a os as um uma uns umas de do da dos das em no na nos nas ao aos e ou mas que nao sim foi ser estar esta
		estou estao tem ter eu voce ele ela eles elas meu minha seu sua isso isto este esse essa aquele com sem para pra
		por pelo pela muito mais ja ainda sempre nunca tambem como quando onde porque hoje obrigado obrigada aqui agora
		bem tudo nada so vai vou ate entao mesmo lhe me te se sao foram vc voces gente tao`,
	langNL: `de het een en van in op met voor naar bij uit aan om door over tot te is zijn was waren ben bent heb hebt
		heeft hebben had wordt worden werd ik je jij u hij zij ze wij we jullie mijn jouw uw haar ons onze hun dit dat
		deze die niet geen wel ook nog al maar of als dan want dus omdat er hier daar waar wat wie hoe waarom wanneer
		heel erg veel meer zeer altijd nooit niets iets alles vandaag nu dank bedankt graag ja nee kan kunnen moet
		moeten wil willen zo toch even echt gewoon mij jou weer`,
}

// runeCues are letters and signs typical of one or a few languages, with the
// weight each gives (a function word weighs 1).
var runeCues = map[rune][nLangs]float32{
	'ñ': {langES: 2}, '¿': {langES: 3}, '¡': {langES: 3},
	'ß': {langDE: 2}, 'ä': {langDE: 1}, 'ö': {langDE: 1}, 'ü': {langDE: 1},
	'ã': {langPT: 2}, 'õ': {langPT: 2},
	'ç': {langFR: 0.6, langPT: 0.6},
	'ê': {langFR: 0.6, langPT: 0.4}, 'â': {langFR: 0.6, langPT: 0.4}, 'ô': {langFR: 0.6, langPT: 0.4},
	'î': {langFR: 0.8}, 'û': {langFR: 0.8}, 'ï': {langFR: 0.5, langNL: 0.3}, 'ë': {langFR: 0.3, langNL: 0.5},
	'œ': {langFR: 2}, 'è': {langFR: 0.6, langIT: 0.5}, 'à': {langFR: 0.4, langIT: 0.4, langPT: 0.2},
	'ù': {langFR: 0.5, langIT: 0.4}, 'é': {langFR: 0.5, langES: 0.25, langPT: 0.25, langIT: 0.1},
	'á': {langES: 0.5, langPT: 0.5}, 'í': {langES: 0.5, langPT: 0.5}, 'ó': {langES: 0.5, langPT: 0.4, langIT: 0.1},
	'ú': {langES: 0.5, langPT: 0.5}, 'ì': {langIT: 1}, 'ò': {langIT: 1},
}

// suffixCues are word endings typical of a language, with their weight.
var suffixCues = []struct {
	suffix string
	w      [nLangs]float32
}{
	{"ing", [nLangs]float32{langEN: 0.4}},
	{"ly", [nLangs]float32{langEN: 0.3}},
	{"ght", [nLangs]float32{langEN: 0.4}},
	{"eux", [nLangs]float32{langFR: 0.4}},
	{"eau", [nLangs]float32{langFR: 0.4}},
	{"aux", [nLangs]float32{langFR: 0.3}},
	{"ment", [nLangs]float32{langFR: 0.2, langEN: 0.1}},
	{"ait", [nLangs]float32{langFR: 0.3}},
	{"cion", [nLangs]float32{langES: 0.5}},
	{"dad", [nLangs]float32{langES: 0.4}},
	{"cao", [nLangs]float32{langPT: 0.5}},
	{"coes", [nLangs]float32{langPT: 0.5}},
	{"ung", [nLangs]float32{langDE: 0.4}},
	{"keit", [nLangs]float32{langDE: 0.5}},
	{"lich", [nLangs]float32{langDE: 0.4}},
	{"zione", [nLangs]float32{langIT: 0.5}},
	{"zioni", [nLangs]float32{langIT: 0.5}},
	{"tje", [nLangs]float32{langNL: 0.5}},
	{"lijk", [nLangs]float32{langNL: 0.5}},
	{"heid", [nLangs]float32{langNL: 0.5}},
}

// scripts maps writing systems that name (nearly) one language to its code.
var scripts = []struct {
	table *unicode.RangeTable
	code  string
}{
	{unicode.Hiragana, "ja"}, {unicode.Katakana, "ja"}, {unicode.Hangul, "ko"}, {unicode.Han, "zh"},
	{unicode.Cyrillic, "ru"}, {unicode.Arabic, "ar"}, {unicode.Greek, "el"}, {unicode.Hebrew, "he"},
	{unicode.Thai, "th"}, {unicode.Devanagari, "hi"},
}

// langModel scores tokens for the supported languages.
type langModel struct {
	words map[string]uint8 // bit l set: a function word of language l
}

func newLangModel() *langModel {
	m := &langModel{words: make(map[string]uint8, 1200)}
	for l, list := range functionWords {
		for _, w := range strings.Fields(list) {
			m.words[w] |= 1 << l
		}
	}
	return m
}

// hintIndex returns the index of a supported language code, or -1.
func hintIndex(hint string) int {
	h := strings.ToLower(strings.TrimSpace(hint))
	if i := strings.IndexAny(h, "-_"); i > 0 {
		h = h[:i] // "fr-FR", "en_US"
	}
	for i, c := range langCodes {
		if c == h {
			return i
		}
	}
	return -1
}

// detect returns the language of a tokenized text and a confidence in [0,1].
func (m *langModel) detect(text string, toks []token, hint string) (string, float64) {
	var score [nLangs]float32
	var evidence float32
	for k := range toks {
		t := &toks[k]
		if !t.isWordish() {
			continue
		}
		w := float32(1)
		if t.kind == kHashtag {
			w = 0.5
		}
		if mask := m.words[t.norm]; mask != 0 {
			share := w / float32(bits.OnesCount8(mask))
			for l := 0; l < nLangs; l++ {
				if mask&(1<<l) != 0 {
					score[l] += share
				}
			}
			evidence += w
			continue
		}
		if len(t.norm) >= 5 {
			for _, c := range suffixCues {
				if strings.HasSuffix(t.norm, c.suffix) {
					for l, v := range c.w {
						score[l] += v * w
						evidence += v * w
					}
					break
				}
			}
		}
	}
	var latin, other int
	var otherCode string
	var scriptCount [16]int
	for _, r := range text {
		if r < 0x80 {
			if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
				latin++
			}
			continue
		}
		if c, ok := runeCues[unicode.ToLower(r)]; ok {
			for l, v := range c {
				score[l] += v
				evidence += v
			}
			latin++
			continue
		}
		if unicode.IsLetter(r) {
			if unicode.Is(unicode.Latin, r) {
				latin++
				continue
			}
			for si, s := range scripts {
				if unicode.Is(s.table, r) {
					scriptCount[si]++
					other++
					break
				}
			}
		}
	}
	hi := hintIndex(hint)
	if other > latin {
		best := 0
		for si := range scripts {
			if scriptCount[si] > scriptCount[best] {
				best = si
			}
		}
		otherCode = scripts[best].code
		if otherCode == "zh" && scriptCount[0]+scriptCount[1] > 0 {
			otherCode = "ja" // kana among Han characters
		}
		return otherCode, float64(other) / float64(other+latin)
	}
	// The hint counts as much as one function word: it tips close calls and
	// stands alone when the text has no evidence, but a text that plainly
	// reads as another language overrides it.
	if hi >= 0 {
		score[hi] += 1
		evidence += 1
	}
	best, second := 0, -1
	for l := 1; l < nLangs; l++ {
		if score[l] > score[best] {
			best = l
		}
	}
	for l := 0; l < nLangs; l++ {
		if l != best && (second < 0 || score[l] > score[second]) {
			second = l
		}
	}
	b, s := score[best], score[second]
	if b < 1 || b-s < 0.5 {
		if hi >= 0 {
			return langCodes[hi], 0.5
		}
		return Undetermined, 0
	}
	// Confidence grows with the margin over the runner-up and with the amount
	// of evidence (three clear function words make a confident call).
	margin := float64((b - s) / b)
	amount := float64(b) / 3
	if amount > 1 {
		amount = 1
	}
	conf := margin * (0.5 + 0.5*amount)
	if conf > 1 {
		conf = 1
	}
	return langCodes[best], conf
}
