package router

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A keyword query is what care leads write to say which posts a rule is
// about:
//
//	refund OR remboursement            either word
//	"still waiting" AND (train OR bus)  a phrase and one of two words
//	rembours*                          a word by its start
//	NOT competitor / -competitor       exclusion
//	delay NEAR/3 refund                two words at most 3 words apart
//	source:mastodon lang:fr author:@ana   fields of the post
//
// Words are matched case- and accent-insensitively ("remboursé" matches
// "rembourse"); '#' and '@' are ignored in text, so "boycott" matches
// "#Boycott". Juxtaposition means AND. AND binds tighter than OR.

// Doc is a mention prepared for keyword matching.
type Doc struct {
	Tokens []string
	Fields map[string]string // source, lang, author (handle and id, lower case)
}

// Query is a parsed keyword query. It is immutable and safe for concurrent
// use.
type Query struct {
	src  string
	root qnode
}

// String returns the query as written.
func (q *Query) String() string { return q.src }

// Match reports whether d matches, and the terms that made it match.
func (q *Query) Match(d *Doc) (bool, []string) {
	var hits []string
	ok := q.root.match(d, &hits)
	if !ok {
		return false, nil
	}
	return true, dedupe(hits)
}

// Terms returns the positive words of the query (not under NOT), for
// pre-filtering.
func (q *Query) Terms() []string {
	var out []string
	q.root.terms(&out, false)
	return out
}

type qnode interface {
	match(d *Doc, hits *[]string) bool
	terms(out *[]string, negated bool)
}

type andNode []qnode
type orNode []qnode
type notNode struct{ q qnode }
type termNode struct {
	word   string
	prefix bool
}
type phraseNode []string
type fieldNode struct{ field, value string }
type nearNode struct {
	a, b termNode
	n    int
}

func (n andNode) match(d *Doc, hits *[]string) bool {
	mark := len(*hits)
	for _, c := range n {
		if !c.match(d, hits) {
			*hits = (*hits)[:mark]
			return false
		}
	}
	return true
}

func (n andNode) terms(out *[]string, neg bool) {
	for _, c := range n {
		c.terms(out, neg)
	}
}

func (n orNode) match(d *Doc, hits *[]string) bool {
	any := false
	for _, c := range n {
		if c.match(d, hits) {
			any = true // keep going: every matching alternative is evidence
		}
	}
	return any
}

func (n orNode) terms(out *[]string, neg bool) {
	for _, c := range n {
		c.terms(out, neg)
	}
}

func (n notNode) match(d *Doc, hits *[]string) bool {
	var ignore []string
	return !n.q.match(d, &ignore)
}

func (n notNode) terms(out *[]string, neg bool) { n.q.terms(out, !neg) }

func (n termNode) matchAt(tok string) bool {
	if n.prefix {
		return strings.HasPrefix(tok, n.word)
	}
	return tok == n.word
}

func (n termNode) match(d *Doc, hits *[]string) bool {
	for _, t := range d.Tokens {
		if n.matchAt(t) {
			*hits = append(*hits, t)
			return true
		}
	}
	return false
}

func (n termNode) terms(out *[]string, neg bool) {
	if !neg {
		*out = append(*out, n.word)
	}
}

func (n phraseNode) match(d *Doc, hits *[]string) bool {
	if len(n) == 0 {
		return false
	}
outer:
	for i := 0; i+len(n) <= len(d.Tokens); i++ {
		for j, w := range n {
			if d.Tokens[i+j] != w {
				continue outer
			}
		}
		*hits = append(*hits, `"`+strings.Join(n, " ")+`"`)
		return true
	}
	return false
}

func (n phraseNode) terms(out *[]string, neg bool) {
	if !neg && len(n) > 0 {
		*out = append(*out, n[0])
	}
}

func (n fieldNode) match(d *Doc, hits *[]string) bool {
	v := d.Fields[n.field]
	if n.field == "author" {
		for _, a := range strings.Split(v, " ") {
			if a == n.value || strings.TrimPrefix(a, "@") == strings.TrimPrefix(n.value, "@") {
				*hits = append(*hits, n.field+":"+n.value)
				return true
			}
		}
		return false
	}
	if v == n.value {
		*hits = append(*hits, n.field+":"+n.value)
		return true
	}
	return false
}

func (n fieldNode) terms(*[]string, bool) {}

func (n nearNode) match(d *Doc, hits *[]string) bool {
	for i, t := range d.Tokens {
		if !n.a.matchAt(t) {
			continue
		}
		lo, hi := max(0, i-n.n-1), min(len(d.Tokens)-1, i+n.n+1)
		for j := lo; j <= hi; j++ {
			if j != i && n.b.matchAt(d.Tokens[j]) {
				*hits = append(*hits, t+" NEAR "+d.Tokens[j])
				return true
			}
		}
	}
	return false
}

func (n nearNode) terms(out *[]string, neg bool) { n.a.terms(out, neg) }

// QueryError is a syntax error in a keyword query, with its 1-based column.
type QueryError struct {
	Column int
	Msg    string
}

func (e *QueryError) Error() string { return fmt.Sprintf("column %d: %s", e.Column, e.Msg) }

var queryFields = map[string]bool{"source": true, "lang": true, "author": true}

// ParseQuery parses a keyword query.
func ParseQuery(src string) (*Query, error) {
	toks, err := lexQuery(src)
	if err != nil {
		return nil, err
	}
	p := &qparser{toks: toks, src: src}
	if len(toks) == 0 {
		return nil, &QueryError{Column: 1, Msg: "empty query"}
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		return nil, &QueryError{Column: t.col, Msg: fmt.Sprintf("unexpected %q", t.text)}
	}
	return &Query{src: src, root: root}, nil
}

type qtokKind int

const (
	qWord qtokKind = iota
	qPhrase
	qLParen
	qRParen
	qMinus
)

type qtok struct {
	kind qtokKind
	text string
	col  int
}

func lexQuery(src string) ([]qtok, error) {
	var toks []qtok
	col := func(byteOff int) int { return utf8.RuneCountInString(src[:byteOff]) + 1 }
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case r == '(':
			toks = append(toks, qtok{qLParen, "(", col(i)})
			i++
		case r == ')':
			toks = append(toks, qtok{qRParen, ")", col(i)})
			i++
		case r == '-' && (i+1 < len(src) && !unicode.IsSpace(rune(src[i+1]))):
			toks = append(toks, qtok{qMinus, "-", col(i)})
			i++
		case r == '"':
			end := strings.IndexByte(src[i+1:], '"')
			if end < 0 {
				return nil, &QueryError{Column: col(i), Msg: "unterminated phrase: missing closing '\"'"}
			}
			toks = append(toks, qtok{qPhrase, src[i+1 : i+1+end], col(i)})
			i += end + 2
		default:
			start := i
			for i < len(src) {
				r, size := utf8.DecodeRuneInString(src[i:])
				if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' {
					break
				}
				i += size
			}
			toks = append(toks, qtok{qWord, src[start:i], col(start)})
		}
	}
	return toks, nil
}

type qparser struct {
	toks []qtok
	i    int
	src  string
}

func (p *qparser) peekOp(op string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == qWord && p.toks[p.i].text == op
}

func (p *qparser) or() (qnode, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	nodes := orNode{first}
	for p.peekOp("OR") {
		p.i++
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return nodes, nil
}

func (p *qparser) and() (qnode, error) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	nodes := andNode{first}
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.kind == qRParen || (t.kind == qWord && t.text == "OR") {
			break
		}
		if t.kind == qWord && t.text == "AND" {
			p.i++
		}
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return nodes, nil
}

func (p *qparser) unary() (qnode, error) {
	if p.i >= len(p.toks) {
		return nil, &QueryError{Column: utf8.RuneCountInString(p.src) + 1, Msg: "unexpected end of query"}
	}
	t := p.toks[p.i]
	if t.kind == qMinus || (t.kind == qWord && t.text == "NOT") {
		p.i++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.primary()
}

func (p *qparser) primary() (qnode, error) {
	t := p.toks[p.i]
	switch t.kind {
	case qLParen:
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != qRParen {
			return nil, &QueryError{Column: t.col, Msg: "missing ')' for this '('"}
		}
		p.i++
		return n, nil
	case qRParen:
		return nil, &QueryError{Column: t.col, Msg: "unexpected ')'"}
	case qPhrase:
		p.i++
		words := Tokenize(t.text)
		if len(words) == 0 {
			return nil, &QueryError{Column: t.col, Msg: "empty phrase"}
		}
		if len(words) == 1 {
			return termNode{word: words[0]}, nil
		}
		return phraseNode(words), nil
	}
	switch t.text {
	case "AND", "OR":
		return nil, &QueryError{Column: t.col, Msg: fmt.Sprintf("%s needs a term on each side", t.text)}
	}
	if field, value, ok := strings.Cut(t.text, ":"); ok && queryFields[strings.ToLower(field)] {
		p.i++
		if value == "" {
			return nil, &QueryError{Column: t.col, Msg: fmt.Sprintf("%s: needs a value", field)}
		}
		return fieldNode{field: strings.ToLower(field), value: strings.ToLower(value)}, nil
	}
	a, err := p.term(t)
	if err != nil {
		return nil, err
	}
	p.i++
	if p.i < len(p.toks) && p.toks[p.i].kind == qWord && strings.HasPrefix(p.toks[p.i].text, "NEAR/") {
		nt := p.toks[p.i]
		n, err := strconv.Atoi(strings.TrimPrefix(nt.text, "NEAR/"))
		if err != nil || n < 0 || n > 50 {
			return nil, &QueryError{Column: nt.col, Msg: "NEAR/n needs a distance from 0 to 50"}
		}
		p.i++
		if p.i >= len(p.toks) || p.toks[p.i].kind != qWord {
			return nil, &QueryError{Column: nt.col, Msg: "NEAR/n needs a word after it"}
		}
		b, err := p.term(p.toks[p.i])
		if err != nil {
			return nil, err
		}
		p.i++
		return nearNode{a: a, b: b, n: n}, nil
	}
	return a, nil
}

func (p *qparser) term(t qtok) (termNode, error) {
	prefix := strings.HasSuffix(t.text, "*")
	words := Tokenize(strings.TrimSuffix(t.text, "*"))
	if len(words) != 1 {
		if len(words) == 0 {
			return termNode{}, &QueryError{Column: t.col, Msg: fmt.Sprintf("%q has no letters or digits", t.text)}
		}
		// "e-mail", "l'attente": the words must follow each other.
		return termNode{}, &QueryError{Column: t.col, Msg: fmt.Sprintf("%q is several words: quote it as a phrase", t.text)}
	}
	if prefix && utf8.RuneCountInString(words[0]) < 3 {
		return termNode{}, &QueryError{Column: t.col, Msg: "a wildcard needs at least 3 letters before '*'"}
	}
	return termNode{word: words[0], prefix: prefix}, nil
}

// Fold lower-cases s and removes its accents. It is safe for concurrent
// use (norm.Form is stateless; a transform.Chain is not).
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	d := norm.NFD.String(strings.ToLower(s))
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// Tokenize splits text into folded words: runs of letters and digits.
// Apostrophes split ("l'attente" gives "l", "attente").
func Tokenize(text string) []string {
	folded := Fold(text)
	return strings.FieldsFunc(folded, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
