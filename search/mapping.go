package search

import (
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/mapping"
)

// The indexed fields. Query strings may name any of them ("queue:billing",
// "sentiment:<-0.5", "created_at:>\"2026-11-01T00:00:00Z\""). The text of a
// mention goes to exactly one of text_fr, text_en and text, chosen by its
// detected language; a query term without a field, or on "text", searches
// all three, each with its own analyser.
const (
	fieldText         = "text"    // standard analyser: any language but fr and en
	fieldTextFR       = "text_fr" // bleve's fr analyser: elision, stop words, light stemming
	fieldTextEN       = "text_en" // bleve's en analyser: possessives, stop words, Porter stemming
	fieldSource       = "source"
	fieldID           = "id"
	fieldLang         = "lang" // detected language
	fieldCreatedAt    = "created_at"
	fieldAuthorID     = "author_id"
	fieldAuthorHandle = "author_handle"
	fieldAuthorName   = "author_name"
	fieldFollowers    = "followers"
	fieldSentiment    = "sentiment"
	fieldLabel        = "label"
	fieldIntent       = "intent"
	fieldInfluence    = "influence"
	fieldGeo          = "geo"
	fieldTicketID     = "ticket_id"
	fieldQueue        = "queue"
	fieldStatus       = "status"
	fieldAssignee     = "assignee"
	fieldPriority     = "priority"
	fieldTags         = "tags"
	fieldVersion      = "version"
	// fieldSrc holds the hit as JSON (its text left out: the text field
	// holds it), stored and not indexed: search results and ticket updates
	// rebuild a mention from it without a second store.
	fieldSrc = "src"
)

// textFields are the fields a mention's text may be in.
var textFields = []string{fieldTextFR, fieldTextEN, fieldText}

// keywordFields are the fields indexed whole, with whether they are faceted
// (and so need doc values).
var keywordFields = map[string]bool{
	fieldSource: true, fieldLang: true, fieldLabel: true, fieldIntent: true, fieldQueue: true, fieldStatus: true, fieldTags: true,
	fieldID: false, fieldAuthorID: false, fieldAuthorHandle: false, fieldTicketID: false, fieldAssignee: false, fieldPriority: false,
}

// textFieldFor returns the field a text in the detected language lang goes
// to.
func textFieldFor(lang string) string {
	switch lang {
	case "fr":
		return fieldTextFR
	case "en":
		return fieldTextEN
	}
	return fieldText
}

// newMapping returns the explicit index mapping: no dynamic fields, no
// composite _all field (free text is routed to the text fields by the query
// rewriter instead), term vectors only where highlighting needs them,
// doc values only where facets and sorting need them.
func newMapping() mapping.IndexMapping {
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = true              // highlighting reads the stored text
		f.IncludeTermVectors = true // and the term positions
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	kw := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	num := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewNumericFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fieldText, text(standard.Name))
	dm.AddFieldMappingsAt(fieldTextFR, text(fr.AnalyzerName))
	dm.AddFieldMappingsAt(fieldTextEN, text(en.AnalyzerName))
	for name, faceted := range keywordFields {
		dm.AddFieldMappingsAt(name, kw(faceted))
	}
	authorName := text(standard.Name)
	authorName.Store, authorName.IncludeTermVectors = false, false
	dm.AddFieldMappingsAt(fieldAuthorName, authorName)
	dm.AddFieldMappingsAt(fieldSentiment, num(true)) // faceted in bands
	dm.AddFieldMappingsAt(fieldFollowers, num(false))
	dm.AddFieldMappingsAt(fieldInfluence, num(false))
	dm.AddFieldMappingsAt(fieldVersion, num(false))
	created := bleve.NewDateTimeFieldMapping()
	created.Store, created.IncludeInAll, created.DocValues = false, false, true // sorted on
	dm.AddFieldMappingsAt(fieldCreatedAt, created)
	geo := bleve.NewGeoPointFieldMapping()
	geo.Store, geo.IncludeInAll, geo.DocValues = false, false, false
	dm.AddFieldMappingsAt(fieldGeo, geo)
	src := bleve.NewTextFieldMapping()
	src.Analyzer = keyword.Name
	src.Index, src.Store, src.IncludeTermVectors, src.IncludeInAll, src.DocValues = false, true, false, false, false
	dm.AddFieldMappingsAt(fieldSrc, src)

	// No composite _all field: nothing goes in it, and building it for
	// every document costs a tenth of the indexing time.
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())

	im := bleve.NewIndexMapping()
	im.DefaultMapping = dm
	im.DefaultAnalyzer = standard.Name
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	return im
}

// fields returns the Bleve document of a record: only the fields that have
// a value, so that a facet's "missing" counts what is really missing.
func (r *Record) fields(src []byte) map[string]any {
	m := &r.Mention
	f := make(map[string]any, 24)
	f[textFieldFor(r.Enrichment.Lang)] = m.Text
	f[fieldSource] = m.Source
	f[fieldID] = m.ID
	f[fieldCreatedAt] = m.CreatedAt
	f[fieldAuthorID] = m.Author.ID
	f[fieldVersion] = float64(r.Version)
	f[fieldSentiment] = r.Enrichment.Sentiment
	f[fieldInfluence] = float64(r.Enrichment.Influence)
	f[fieldFollowers] = float64(m.Author.Followers)
	f[fieldSrc] = string(src)
	put := func(name, v string) {
		if v != "" {
			f[name] = v
		}
	}
	put(fieldLang, r.Enrichment.Lang)
	put(fieldAuthorHandle, m.Author.Handle)
	put(fieldAuthorName, m.Author.Name)
	put(fieldLabel, r.Enrichment.Label)
	put(fieldIntent, r.Enrichment.Intent)
	put(fieldQueue, r.Queue)
	put(fieldStatus, string(r.Status))
	put(fieldAssignee, r.Assignee)
	put(fieldPriority, string(r.Priority))
	if r.TicketID != 0 {
		f[fieldTicketID] = strconv.FormatInt(r.TicketID, 10)
	}
	if len(r.Tags) > 0 {
		f[fieldTags] = r.Tags
	}
	if m.Geo != nil {
		f[fieldGeo] = map[string]any{"lat": m.Geo.Lat, "lon": m.Geo.Lon}
	}
	return f
}
