package router

import "math/bits"

// prefilter finds the rules a document can possibly match from its words,
// so that evaluating thousands of keyword rules costs about as much as the
// few that share words with the post.
//
// For each rule it computes a set of words such that a document containing
// none of them cannot match the rule's keyword query: a word for a term, the
// first word of a phrase, the union over the branches of an OR, the set of
// one branch of an AND. Prefix terms are indexed by their prefix, looked up
// with every prefix (of three letters or more) of the post's words. A rule whose query has no such set (only NOT, only fields) or
// that has no keyword query at all is always evaluated.
type prefilter struct {
	n      int
	always []uint64
	words  map[string][]int32
	heads  map[string][]int32 // prefix terms, by their prefix
}

// requiredWords returns the words one of which a matching document must
// contain, with prefix terms marked; ok is false when there is none.
func requiredWords(n qnode) (words []termNode, ok bool) {
	switch q := n.(type) {
	case termNode:
		return []termNode{q}, true
	case phraseNode:
		return []termNode{{word: q[0]}}, true
	case nearNode:
		return []termNode{q.a}, true
	case orNode:
		for _, c := range q {
			w, ok := requiredWords(c)
			if !ok {
				return nil, false
			}
			words = append(words, w...)
		}
		return words, true
	case andNode:
		best, found := []termNode(nil), false
		for _, c := range q {
			if w, ok := requiredWords(c); ok && (!found || len(w) < len(best)) {
				best, found = w, true
			}
		}
		return best, found
	}
	return nil, false
}

func newPrefilter(rules []*Rule) *prefilter {
	p := &prefilter{n: len(rules), always: make([]uint64, (len(rules)+63)/64), words: map[string][]int32{}, heads: map[string][]int32{}}
	for i, r := range rules {
		var words []termNode
		ok := false
		if r.Match != nil {
			words, ok = requiredWords(r.Match.root)
		}
		if !ok {
			p.always[i/64] |= 1 << (i % 64)
			continue
		}
		for _, w := range words {
			if w.prefix {
				p.heads[w.word] = appendOnce(p.heads[w.word], int32(i))
			} else {
				p.words[w.word] = appendOnce(p.words[w.word], int32(i))
			}
		}
	}
	return p
}

func appendOnce(s []int32, i int32) []int32 {
	if n := len(s); n > 0 && s[n-1] == i {
		return s
	}
	return append(s, i)
}

// candidates returns a bitset of the rules worth evaluating for tokens.
func (p *prefilter) candidates(tokens []string) []uint64 {
	set := make([]uint64, len(p.always))
	copy(set, p.always)
	for _, t := range tokens {
		for _, i := range p.words[t] {
			set[i/64] |= 1 << (i % 64)
		}
		if len(p.heads) > 0 {
			n := 0
			for end := range t {
				if n >= 3 {
					for _, i := range p.heads[t[:end]] {
						set[i/64] |= 1 << (i % 64)
					}
				}
				n++
			}
			for _, i := range p.heads[t] {
				set[i/64] |= 1 << (i % 64)
			}
		}
	}
	return set
}

// each calls f for every rule index in set, in order, until f returns
// false.
func each(set []uint64, f func(i int) bool) {
	for w, bitsw := range set {
		for bitsw != 0 {
			b := bits.TrailingZeros64(bitsw)
			if !f(w*64 + b) {
				return
			}
			bitsw &^= 1 << b
		}
	}
}
