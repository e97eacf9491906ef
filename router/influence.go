package router

import (
	"math"

	"github.com/vigie/vigie/listener"
)

// Influence scores an author from 0 to 100. Reach dominates: followers on a
// log scale, so that 10 followers give 10, 1,000 give 45 and 1,000,000 give
// 80 (each factor of ten adds about 12). A verified account adds 10;
// engagement on the post adds up to 10 (log of likes + 2 reposts + replies);
// an account following far more than it is followed (a follow-back farm)
// loses up to a third. The result is clamped to [0, 100].
func Influence(m *listener.Mention) int {
	a := m.Author
	score := 0.0
	if a.Followers > 0 {
		score = 11.7 * math.Log10(float64(a.Followers)+1)
	}
	if a.Verified {
		score += 10
	}
	if e := m.Engagement; e != nil {
		eng := float64(e.Likes + 2*e.Reposts + e.Replies)
		score += math.Min(10, 3*math.Log10(eng+1))
	}
	if a.Following > 0 && a.Followers > 0 && a.Following > 5*a.Followers {
		score *= 0.67
	}
	return int(math.Round(math.Max(0, math.Min(100, score))))
}
