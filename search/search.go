package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Result is one page of hits, with the facets asked for.
type Result struct {
	// Total counts every hit of the query, not only this page's.
	Total uint64 `json:"total"`
	Page  int    `json:"page"`
	Size  int    `json:"size"`
	Hits  []Hit  `json:"hits"`
	// Facets holds one entry per facet asked for, under its name.
	Facets map[string]Facet `json:"facets"`
}

// Facet counts the hits by one field's values, most frequent first (the
// sentiment facet lists its three bands in order, zeros included).
type Facet struct {
	Values []FacetValue `json:"values"`
	// Missing counts hits without a value; Other, hits whose value is
	// beyond the values listed.
	Missing int `json:"missing"`
	Other   int `json:"other"`
}

// FacetValue is one value of a facet and its count.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// facetSize is how many values a terms facet lists: enough for the
// networks, languages, queues and intents Vigie knows, and the top tags.
const facetSize = 20

// sentimentBand is the neutral band's half-width: [-0.05, 0.05] is neutral.
const sentimentBand = 0.05

// The sentiment bands, in the order the facet lists them.
var sentimentBands = []string{"negative", "neutral", "positive"}

// facetField maps a facet name to its field.
var facetField = map[string]string{
	FacetSource: fieldSource, FacetLang: fieldLang, FacetSentiment: fieldSentiment, FacetLabel: fieldLabel,
	FacetQueue: fieldQueue, FacetIntent: fieldIntent, FacetStatus: fieldStatus, FacetTags: fieldTags,
}

// Search runs one search. A bad request gets a *RequestError.
func (ix *Index) Search(ctx context.Context, r Request) (Result, error) {
	start := time.Now()
	res, err := ix.search(ctx, r)
	var re *RequestError
	switch {
	case err == nil:
		ix.m.queries.WithLabelValues("ok").Inc()
		ix.m.querySeconds.Observe(time.Since(start).Seconds())
	case errors.As(err, &re):
		ix.m.queries.WithLabelValues("bad_request").Inc()
	default:
		ix.m.queries.WithLabelValues("error").Inc()
	}
	return res, err
}

func (ix *Index) search(ctx context.Context, r Request) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	q, err := buildQuery(&r)
	if err != nil {
		return Result{}, err
	}
	req := bleve.NewSearchRequestOptions(q, r.Size, (r.Page-1)*r.Size, false)
	req.Fields = storedFields
	req.Highlight = bleve.NewHighlightWithStyle("html")
	for _, f := range textFields {
		req.Highlight.AddField(f)
	}
	switch r.Sort {
	case SortNewest:
		req.SortBy([]string{"-" + fieldCreatedAt, "-_id"})
	default:
		req.SortBy([]string{"-_score", "-" + fieldCreatedAt, "-_id"})
	}
	for _, name := range r.Facets {
		fr := bleve.NewFacetRequest(facetField[name], facetSize)
		if name == FacetSentiment {
			lo, hi := -sentimentBand, math.Nextafter(sentimentBand, math.Inf(1))
			fr.Size = len(sentimentBands)
			fr.AddNumericRange(sentimentBands[0], nil, &lo)
			fr.AddNumericRange(sentimentBands[1], &lo, &hi)
			fr.AddNumericRange(sentimentBands[2], &hi, nil)
		}
		req.AddFacet(name, fr)
	}

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return Result{}, ErrClosed
	}
	sr, err := ix.bleve.SearchInContext(ctx, req)
	if err != nil {
		return Result{}, fmt.Errorf("search: %w", err)
	}
	out := Result{Total: sr.Total, Page: r.Page, Size: r.Size, Hits: make([]Hit, 0, len(sr.Hits)), Facets: map[string]Facet{}}
	for _, h := range sr.Hits {
		if h.ID == compactMarker {
			out.Total-- // Compact's marker, there for a moment: not a mention
			continue
		}
		hit, err := toHit(h)
		if err != nil {
			return Result{}, fmt.Errorf("search: %w", err)
		}
		out.Hits = append(out.Hits, hit)
	}
	for name, fr := range sr.Facets {
		out.Facets[name] = toFacet(name, fr)
	}
	return out, nil
}

func toHit(h *bsearch.DocumentMatch) (Hit, error) {
	rec, err := recordFromFields(h.Fields)
	if err != nil {
		return Hit{}, fmt.Errorf("document %s: %w", h.ID, err)
	}
	hit := Hit{Key: h.ID, Record: *rec, Score: h.Score}
	if math.IsNaN(hit.Score) || math.IsInf(hit.Score, 0) {
		hit.Score = 0
	}
	for _, frags := range h.Fragments {
		if len(frags) > 0 {
			hit.Highlights = map[string][]string{fieldText: frags}
			break
		}
	}
	return hit, nil
}

func toFacet(name string, fr *bsearch.FacetResult) Facet {
	f := Facet{Values: []FacetValue{}, Missing: fr.Missing, Other: fr.Other}
	if name == FacetSentiment {
		counts := map[string]int{}
		for _, nr := range fr.NumericRanges {
			counts[nr.Name] = nr.Count
		}
		for _, b := range sentimentBands {
			f.Values = append(f.Values, FacetValue{Value: b, Count: counts[b]})
		}
		return f
	}
	if fr.Terms != nil {
		for _, t := range fr.Terms.Terms() {
			f.Values = append(f.Values, FacetValue{Value: t.Term, Count: t.Count})
		}
	}
	return f
}

// buildQuery turns a validated request into a Bleve query.
func buildQuery(r *Request) (query.Query, error) {
	var q query.Query = bleve.NewMatchAllQuery()
	if strings.TrimSpace(r.Query) != "" {
		parsed, err := query.NewQueryStringQuery(r.Query).Parse()
		if err != nil {
			return nil, badRequest("q", err.Error())
		}
		q = rewrite(parsed)
	}
	if r.From.IsZero() && r.To.IsZero() {
		return q, nil
	}
	incl, excl := true, false
	dr := query.NewDateRangeInclusiveQuery(r.From, r.To, &incl, &excl)
	dr.SetField(fieldCreatedAt)
	return bleve.NewConjunctionQuery(q, dr), nil
}

// freeTextFields are the fields a term without a field (or on "text")
// searches, each analysed its own way.
var freeTextFields = []string{fieldTextFR, fieldTextEN, fieldText, fieldAuthorName}

// rewrite makes the text leaves of a parsed query string that name no
// field, or "text", search every text field: each language's field is
// analysed by its own analyser, so "remboursement" finds French posts by
// their stem and English posts by theirs. It modifies q in place.
func rewrite(q query.Query) query.Query {
	switch q := q.(type) {
	case *query.BooleanQuery:
		q.Must = rewriteNil(q.Must)
		q.Should = rewriteNil(q.Should)
		q.MustNot = rewriteNil(q.MustNot)
		q.Filter = rewriteNil(q.Filter)
		return q
	case *query.ConjunctionQuery:
		for i, c := range q.Conjuncts {
			q.Conjuncts[i] = rewrite(c)
		}
		return q
	case *query.DisjunctionQuery:
		for i, c := range q.Disjuncts {
			q.Disjuncts[i] = rewrite(c)
		}
		return q
	case *query.MatchQuery:
		if isFreeText(q.FieldVal) {
			return spread(func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
	case *query.MatchPhraseQuery:
		if isFreeText(q.FieldVal) {
			return spread(func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
		if _, ok := keywordFields[q.FieldVal]; ok {
			// A keyword is one token with no positions stored: a phrase
			// on it ("author_handle:\"@ana@social.example\"") is a match.
			m := query.NewMatchQuery(q.MatchPhrase)
			m.SetField(q.FieldVal)
			m.BoostVal = q.BoostVal
			return m
		}
	case *query.WildcardQuery:
		if isFreeText(q.FieldVal) {
			return spread(func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
	case *query.RegexpQuery:
		if isFreeText(q.FieldVal) {
			return spread(func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
	}
	return q
}

func rewriteNil(q query.Query) query.Query {
	if q == nil {
		return nil
	}
	return rewrite(q)
}

func isFreeText(field string) bool { return field == "" || field == fieldText }

func spread(on func(field string) query.Query) query.Query {
	qs := make([]query.Query, len(freeTextFields))
	for i, f := range freeTextFields {
		qs[i] = on(f)
	}
	return query.NewDisjunctionQuery(qs)
}
