package search

import (
	"fmt"
	"net/url"
	stdregexp "regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/vellum/regexp"
)

// Sort orders search hits.
type Sort string

// The sort orders.
const (
	SortNewest    Sort = "newest"    // created_at descending
	SortRelevance Sort = "relevance" // score descending, then newest
)

// Paging limits. MaxWindow bounds how deep paging goes, so that a request
// never makes Bleve rank more than that many hits.
const (
	DefaultSize = 20
	MaxSize     = 100
	MaxWindow   = 10_000
	// maxQueryBytes bounds q: a query string is typed by a person.
	maxQueryBytes = 4096
)

// The facets a request may ask for.
const (
	FacetSource    = "source"
	FacetLang      = "lang"
	FacetSentiment = "sentiment" // bands: negative < -0.05 ≤ neutral ≤ 0.05 < positive
	FacetLabel     = "label"     // the enrichment's sentiment label
	FacetQueue     = "queue"
	FacetIntent    = "intent"
	FacetStatus    = "status"
	FacetTags      = "tags"
)

// Facets lists the facet names a request may ask for.
var Facets = []string{FacetSource, FacetLang, FacetSentiment, FacetLabel, FacetQueue, FacetIntent, FacetStatus, FacetTags}

// Request is one search.
type Request struct {
	// Query is in Bleve's query-string syntax; "" matches everything.
	// Terms without a field search the text in every language.
	Query string
	// From and To bound created_at: From inclusive, To exclusive; a zero
	// time leaves that side open.
	From, To time.Time
	// Size is the page size, 1 to MaxSize; 0 means DefaultSize.
	Size int
	// Page is the 1-based page number; 0 means 1. Page*Size may not exceed
	// MaxWindow.
	Page int
	// Sort is SortNewest or SortRelevance; "" means relevance when Query is
	// set, newest otherwise.
	Sort Sort
	// Facets names the facets to count, from Facets.
	Facets []string
}

// ParseRequest reads a request from URL query parameters: q, from, to (RFC
// 3339), size, page, sort and facets (comma-separated). Unknown parameters
// are ignored. A bad value gets a *RequestError.
func ParseRequest(v url.Values) (Request, error) {
	var r Request
	r.Query = v.Get("q")
	var err error
	if r.From, err = parseTime(v, "from"); err != nil {
		return r, err
	}
	if r.To, err = parseTime(v, "to"); err != nil {
		return r, err
	}
	if r.Size, err = parseInt(v, "size"); err != nil {
		return r, err
	}
	if r.Page, err = parseInt(v, "page"); err != nil {
		return r, err
	}
	r.Sort = Sort(v.Get("sort"))
	if f := v.Get("facets"); f != "" {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				r.Facets = append(r.Facets, name)
			}
		}
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	return r, nil
}

func parseTime(v url.Values, name string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badRequest(name, "not an RFC 3339 time (like 2026-11-22T10:00:00Z): "+strconv.Quote(s))
	}
	return t, nil
}

func parseInt(v url.Values, name string) (int, error) {
	s := v.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest(name, "not an integer: "+strconv.Quote(s))
	}
	return n, nil
}

// Validate fills defaults and checks the request, the query's syntax
// included.
func (r *Request) Validate() error {
	if len(r.Query) > maxQueryBytes {
		return badRequest("q", "longer than "+strconv.Itoa(maxQueryBytes)+" bytes")
	}
	if strings.TrimSpace(r.Query) != "" {
		q, err := query.NewQueryStringQuery(r.Query).Parse()
		if err != nil {
			return badRequest("q", err.Error())
		}
		if err := checkPatterns(q); err != nil {
			return badRequest("q", err.Error())
		}
		if vq, ok := q.(query.ValidatableQuery); ok {
			if err := vq.Validate(); err != nil {
				return badRequest("q", err.Error())
			}
		}
	}
	for _, b := range []struct {
		name string
		t    time.Time
	}{{"from", r.From}, {"to", r.To}} {
		if !b.t.IsZero() && (b.t.Before(query.MinRFC3339CompatibleTime) || b.t.After(query.MaxRFC3339CompatibleTime)) {
			return badRequest(b.name, "out of range: dates must fall between 1678 and 2261")
		}
	}
	if !r.From.IsZero() && !r.To.IsZero() && !r.From.Before(r.To) {
		return badRequest("to", "must be after from")
	}
	switch {
	case r.Size == 0:
		r.Size = DefaultSize
	case r.Size < 1 || r.Size > MaxSize:
		return badRequest("size", "must be between 1 and "+strconv.Itoa(MaxSize))
	}
	switch {
	case r.Page == 0:
		r.Page = 1
	case r.Page < 1:
		return badRequest("page", "must be 1 or more")
	}
	if r.Page > MaxWindow/r.Size {
		return badRequest("page", "too deep: at most the first "+strconv.Itoa(MaxWindow)+
			" hits can be paged through ("+strconv.Itoa(MaxWindow/r.Size)+" pages of "+strconv.Itoa(r.Size)+"); narrow the query or the dates")
	}
	switch r.Sort {
	case "":
		r.Sort = SortNewest
		if strings.TrimSpace(r.Query) != "" {
			r.Sort = SortRelevance
		}
	case SortNewest, SortRelevance:
	default:
		return badRequest("sort", "must be newest or relevance, not "+strconv.Quote(string(r.Sort)))
	}
	seen := make(map[string]bool, len(r.Facets))
	for _, f := range r.Facets {
		if !slices.Contains(Facets, f) {
			return badRequest("facets", "unknown facet "+strconv.Quote(f)+"; known: "+strings.Join(Facets, ", "))
		}
		if seen[f] {
			return badRequest("facets", "facet "+strconv.Quote(f)+" asked twice")
		}
		seen[f] = true
	}
	return nil
}

// checkPatterns compiles the regular expressions and wildcards of a parsed
// query the way the index will, so that a bad one is the client's error and
// not a failed search.
func checkPatterns(q query.Query) error {
	switch q := q.(type) {
	case *query.BooleanQuery:
		for _, c := range []query.Query{q.Must, q.Should, q.MustNot, q.Filter} {
			if c != nil {
				if err := checkPatterns(c); err != nil {
					return err
				}
			}
		}
	case *query.ConjunctionQuery:
		for _, c := range q.Conjuncts {
			if err := checkPatterns(c); err != nil {
				return err
			}
		}
	case *query.DisjunctionQuery:
		for _, c := range q.Disjuncts {
			if err := checkPatterns(c); err != nil {
				return err
			}
		}
	case *query.MatchQuery:
		return checkFuzziness(q.Fuzziness)
	case *query.MatchPhraseQuery:
		return checkFuzziness(q.Fuzziness)
	case *query.RegexpQuery:
		if _, err := regexp.New(strings.TrimPrefix(q.Regexp, "^")); err != nil {
			return fmt.Errorf("regular expression /%s/: %w", q.Regexp, err)
		}
	case *query.WildcardQuery:
		if _, err := regexp.New(wildcardRegexp(q.Wildcard)); err != nil {
			return fmt.Errorf("wildcard %q: %w", q.Wildcard, err)
		}
	}
	return nil
}

// maxFuzziness is Bleve's limit on edit distance.
const maxFuzziness = 2

func checkFuzziness(n int) error {
	if n < 0 || n > maxFuzziness {
		return fmt.Errorf("fuzziness %d: must be between 0 and %d", n, maxFuzziness)
	}
	return nil
}

// wildcardRegexp turns a wildcard into a regular expression as Bleve does.
func wildcardRegexp(w string) string {
	var b strings.Builder
	for _, r := range w {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(stdregexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}
