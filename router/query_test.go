package router

import (
	"errors"
	"strings"
	"testing"
)

func TestQueryMatch(t *testing.T) {
	t.Parallel()
	doc := func(text string) *Doc {
		return &Doc{Tokens: Tokenize(text), Fields: map[string]string{"source": "mastodon", "lang": "fr", "author": "@ana@social.example 42"}}
	}
	cases := []struct {
		query, text string
		want        bool
		hits        string
	}{
		{"refund", "I want a REFUND now", true, "refund"},
		{"refund OR remboursement", "Toujours pas de remboursement", true, "remboursement"},
		{"rembours*", "Remboursé ? Jamais.", true, "rembourse"},
		{`"still waiting"`, "I am still waiting for my bag", true, `"still waiting"`},
		{`"still waiting"`, "still, I am waiting", false, ""},
		{"train AND late", "the train is late", true, "train, late"},
		{"train late", "the train is on time", false, ""},
		{"train -late", "the train is on time", true, "train"},
		{"train NOT late", "the late train", false, ""},
		{"(bus OR train) AND (late OR retard)", "Le train a du retard", true, "train, retard"},
		{"delay NEAR/2 refund", "delay and no refund", true, "delay NEAR refund"},
		{"delay NEAR/1 refund", "delay and then no refund", false, ""},
		{"boycott", "#Boycott Velora", true, "boycott"},
		{"source:mastodon lang:fr", "anything", true, "source:mastodon, lang:fr"},
		{"author:@ana@social.example", "x", true, "author:@ana@social.example"},
		{"author:42 AND source:x", "x", false, ""},
		{"a OR b c", "c only", false, ""},
		{"a OR b c", "a only", true, "a"},
	}
	for _, tc := range cases {
		t.Run(tc.query+"|"+tc.text, func(t *testing.T) {
			q, err := ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			ok, hits := q.Match(doc(tc.text))
			if ok != tc.want || strings.Join(hits, ", ") != tc.hits {
				t.Errorf("match = %v %q, want %v %q", ok, hits, tc.want, tc.hits)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		query string
		col   int
		msg   string
	}{
		{"", 1, "empty query"},
		{`"unterminated`, 1, "unterminated phrase"},
		{"refund OR", 10, "unexpected end"},
		{"(a OR b", 1, "missing ')'"},
		{"a )", 3, "unexpected \")\""},
		{"OR a", 1, "OR needs a term"},
		{"ab*", 1, "at least 3 letters"},
		{"a NEAR/x b", 3, "NEAR/n needs a distance"},
		{"e-mail", 1, "several words"},
		{"source:", 1, "needs a value"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			_, err := ParseQuery(tc.query)
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("error %v, want a QueryError", err)
			}
			if qe.Column != tc.col || !strings.Contains(qe.Msg, tc.msg) {
				t.Errorf("got column %d %q, want column %d %q", qe.Column, qe.Msg, tc.col, tc.msg)
			}
		})
	}
}

// FuzzParseQuery: any string parses or fails with a positioned error, never
// panics, and a parsed query matches any document without panicking.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"refund OR (late AND \"still waiting\")", "a NEAR/3 b", "-x source:y", "((("} {
		f.Add(s, "some text to match against")
	}
	f.Fuzz(func(t *testing.T, query, text string) {
		q, err := ParseQuery(query)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Column < 1 {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		q.Match(&Doc{Tokens: Tokenize(text), Fields: map[string]string{}})
		q.Terms()
	})
}
