package demo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/vigie/vigie/listener"
)

// author is one member of the stable author pool.
type author struct {
	listener.Author
	Source     string
	Lang       string
	Influencer bool
	Bot        bool
}

var firstNames = map[string][]string{
	"fr": {"Camille", "Léa", "Manon", "Chloé", "Inès", "Jade", "Louise", "Emma", "Sarah", "Julie", "Nathalie", "Sophie", "Claire", "Mathilde", "Élodie", "Aurélie", "Lucas", "Hugo", "Louis", "Nathan", "Thomas", "Julien", "Nicolas", "Maxime", "Antoine", "Théo", "Mehdi", "Karim", "Yanis", "Baptiste", "Romain", "Olivier", "Pierre", "François", "Jérôme", "Amandine", "Fatou", "Aïcha", "Gaëlle", "Benoît"},
	"en": {"Emily", "Olivia", "Amelia", "Grace", "Charlotte", "Hannah", "Jessica", "Laura", "Megan", "Sophie", "Rachel", "Priya", "Aisha", "Kate", "James", "Oliver", "Harry", "Jack", "George", "Thomas", "Daniel", "Matt", "Sam", "Tom", "Chris", "Ben", "Liam", "Noah", "Ryan", "Raj", "Connor", "Ethan"},
	"es": {"Lucía", "María", "Paula", "Carmen", "Sofía", "Elena", "Javier", "Pablo", "Alejandro", "Diego", "Sergio", "Álvaro"},
	"de": {"Anna", "Lena", "Lea", "Katharina", "Julia", "Leonie", "Lukas", "Felix", "Jonas", "Maximilian", "Tobias", "Jürgen"},
	"it": {"Giulia", "Chiara", "Francesca", "Sara", "Martina", "Alessia", "Marco", "Luca", "Matteo", "Davide", "Lorenzo", "Giuseppe"},
}

var lastNames = map[string][]string{
	"fr": {"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Benali", "Nguyen", "Diallo", "Janssens", "Peeters", "Maes"},
	"en": {"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "Murphy", "O'Brien", "Kelly", "Campbell"},
	"es": {"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"},
	"de": {"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"},
	"it": {"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"},
}

var handleSuffixes = []string{"", "", "", "_", ".", "75", "69", "13", "59", "92", "_off", "_travels", "84", "1987", "2001", "_bzh", "x", "_fr", "_uk", "_be"}

var spamNames = []string{"free_followers", "crypto_gains", "promo_deals", "get_rich", "bitcoin_profit", "viral_boost", "gift_cards", "winner_alert", "likes4you", "cashback_king", "nft_drop", "forex_pro"}

var influencerTitles = map[string][]string{
	"fr": {"Le Rail Déchaîné", "Voyages en Train", "Carnet de Quai", "TrainSpotter FR", "Madame Voyage", "Tonton Gare"},
	"en": {"The Rail Critic", "Slow Travel Diaries", "Euro Rail Guide", "Seat 61 Fan", "The Budget Traveller", "Trains & Coffee"},
	"es": {"Viajar en Tren"}, "de": {"Bahnreisen Blog"}, "it": {"Treni e Viaggi"},
}

// newAuthors builds the pool: n people, plus spam bots appended at the end.
// The pool depends only on r's state and the configuration.
func newAuthors(r *rand.Rand, n int, langs weighted[string], sources weighted[string], influencerShare float64) []*author {
	seen := make(map[string]bool, n)
	pool := make([]*author, 0, n+len(spamNames)*3)
	for i := range n {
		a := &author{Lang: langs.pick(r.Float64()), Source: sources.pick(r.Float64())}
		first := pickS(r, firstNames[a.Lang])
		last := pickS(r, lastNames[a.Lang])
		a.Name = first + " " + last
		if r.IntN(8) == 0 {
			a.Name = first // some show only a first name
		}
		a.Influencer = r.Float64() < influencerShare
		user := userName(r, first, last)
		if a.Influencer && r.IntN(2) == 0 {
			title := pickS(r, influencerTitles[a.Lang])
			a.Name = title
			user = strings.ToLower(strings.ReplaceAll(asciiFold(title), " ", ""))
		}
		for seen[a.Source+"/"+user] {
			user += strconv.Itoa(r.IntN(10))
		}
		seen[a.Source+"/"+user] = true
		a.ID = authorID(r, a.Source, i)
		a.Handle = handleFor(r, a.Source, a.Lang, user)
		if a.Influencer {
			// Log-uniform between 10k and 2M followers.
			a.Followers = int64(math.Exp(math.Log(1e4) + r.Float64()*(math.Log(2e6)-math.Log(1e4))))
			a.Verified = r.Float64() < 0.8
			a.Following = int64(50 + r.IntN(1500))
			a.Posts = int64(2000 + r.IntN(40000))
		} else {
			// Log-normal: a median of about 150 followers, a long tail
			// below the influencers' range.
			a.Followers = min(int64(math.Exp(5+1.4*r.NormFloat64())), 9500)
			a.Following = min(int64(math.Exp(5.5+r.NormFloat64())), 7500)
			a.Posts = int64(math.Exp(6.5 + 1.5*r.NormFloat64()))
			a.Verified = r.Float64() < 0.005
		}
		pool = append(pool, a)
	}
	for i, base := range spamNames {
		for k := range 3 {
			a := &author{Bot: true, Lang: "en", Source: sources.pick(r.Float64())}
			if k == 1 {
				a.Lang = "fr"
			}
			user := base + "_" + strconv.Itoa(100+r.IntN(9900))
			for seen[a.Source+"/"+user] {
				user += strconv.Itoa(r.IntN(10))
			}
			seen[a.Source+"/"+user] = true
			a.ID = authorID(r, a.Source, n+i*3+k)
			a.Handle = handleFor(r, a.Source, a.Lang, user)
			a.Name = strings.ToUpper(strings.ReplaceAll(base, "_", " ")) + " 💰"
			a.Followers = int64(r.IntN(40))
			a.Following = int64(2000 + r.IntN(5000))
			a.Posts = int64(5000 + r.IntN(50000))
			pool = append(pool, a)
		}
	}
	return pool
}

func userName(r *rand.Rand, first, last string) string {
	f, l := strings.ToLower(asciiFold(first)), strings.ToLower(asciiFold(last))
	l = strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' {
			return c
		}
		return -1
	}, l)
	var u string
	switch r.IntN(5) {
	case 0:
		u = f + l
	case 1:
		u = f + "_" + l
	case 2:
		u = f[:1] + l
	case 3:
		u = f + "." + l[:min(3, len(l))]
	default:
		u = f
	}
	return strings.Trim(u+pickS(r, handleSuffixes), ".")
}

// asciiFold drops diacritics: "Élodie" → "Elodie".
func asciiFold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

func pickS(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }
