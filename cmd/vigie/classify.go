package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/vigie/vigie/router/nlp"
)

// classifyLine is one line of "vigie classify" output.
type classifyLine struct {
	Lang      string   `json:"lang"`
	Sentiment float64  `json:"sentiment"`
	Label     string   `json:"label"`
	Intent    string   `json:"intent"`
	Evidence  evidence `json:"evidence"`
}

type evidence struct {
	LangConfidence float64  `json:"lang_confidence"`
	SentimentTerms []string `json:"sentiment_terms"`
	IntentTerms    []string `json:"intent_terms"`
}

// runClassify reads one text per line on stdin and writes one JSON reading
// per line on stdout. --lang forces the language instead of detecting it.
func runClassify(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	lang := fs.String("lang", "", "force the language (en, fr, ...) instead of detecting it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("classify: unexpected argument %q (texts come on stdin, one per line)", fs.Arg(0))
	}
	a, err := nlp.New()
	if err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		text := sc.Text()
		c := a.Classify(text, *lang)
		if *lang != "" {
			c.Lang, c.LangConfidence = *lang, 1
			c.Sentiment, c.Label, c.SentimentTerms = a.Sentiment(text, *lang)
			c.Intent, c.IntentTerms = a.Intent(text, *lang)
		}
		line := classifyLine{Lang: c.Lang, Sentiment: c.Sentiment, Label: c.Label, Intent: c.Intent,
			Evidence: evidence{LangConfidence: c.LangConfidence, SentimentTerms: nonNil(c.SentimentTerms), IntentTerms: nonNil(c.IntentTerms)}}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("classify: write: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("classify: read stdin: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("classify: write: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
