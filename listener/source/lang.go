package source

import "strings"

// Lang returns the ISO 639-1 code of a network's language tag: the primary
// subtag of a BCP 47 tag ("pt-BR" → "pt"), lower case, or "" when it is not
// a two-letter code (X's "und", "qme", "zxx"; three-letter ISO 639-3 codes),
// since Vigie's mentions carry ISO 639-1 only.
func Lang(tag string) string {
	primary, _, _ := strings.Cut(tag, "-")
	primary, _, _ = strings.Cut(primary, "_")
	if len(primary) != 2 {
		return ""
	}
	primary = strings.ToLower(primary)
	for _, r := range primary {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return primary
}
