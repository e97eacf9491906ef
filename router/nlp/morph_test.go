package nlp

import "testing"

func TestLookupInflected(t *testing.T) {
	words := map[string]float32{
		"hate": -2.7, "hating": -2.3, "scam": -2.2, "happy": 2.7, "sad": -2.1, "stop": -1.2,
		"annule": -1.5, "decevant": -2, "heureux": 2.5, "actif": 1, "cruel": -2.5, "social": 0.5, "aimer": 2.5,
		"trahir": -3,
	}
	tests := []struct {
		morph int
		word  string
		want  float32
		found bool
	}{
		{morphEnglish, "hatin", -2.3, true},
		{morphEnglish, "hatin'", -2.3, true},
		{morphEnglish, "scammed", -2.2, true},
		{morphEnglish, "scams", -2.2, true},
		{morphEnglish, "hated", -2.7, true},
		{morphEnglish, "stopped", -1.2, true},
		{morphEnglish, "happily", 2.7, true},
		{morphEnglish, "sadly", -2.1, true},
		{morphEnglish, "scam's", -2.2, true},
		{morphEnglish, "class", 0, false}, // "-ss" is no plural
		{morphEnglish, "its", 0, false},   // too short to strip
		{morphFrench, "annulees", -1.5, true},
		{morphFrench, "decevants", -2, true},
		{morphFrench, "heureuses", 2.5, true},
		{morphFrench, "actives", 1, true},
		{morphFrench, "cruelle", -2.5, true},
		{morphFrench, "sociaux", 0.5, true},
		{morphFrench, "aimaient", 2.5, true},
		{morphFrench, "aiment", 2.5, true},
		{morphFrench, "table", 0, false},
		{morphFrench, "aimees", 2.5, true}, // agreed participle onto the infinitive
		{morphFrench, "aimee", 2.5, true},
		{morphFrench, "trahie", -3, true}, // second group
		{morphFrench, "trahis", -3, true},
		{morphFrench, "trahit", -3, true},
	}
	for _, tt := range tests {
		res := &langRes{lex: &lexicon{words: words}, morph: tt.morph}
		got, ok := lookupInflected(res, tt.word)
		if got != tt.want || ok != tt.found {
			t.Errorf("lookupInflected(%q) = %v, %v; want %v, %v", tt.word, got, ok, tt.want, tt.found)
		}
	}
}
