package main

import (
	"fmt"

	"github.com/vigie/vigie/router"
	"github.com/vigie/vigie/router/nlp"
)

// newClassifier returns what reads the texts: language, sentiment, intent.
func newClassifier() (router.Classifier, error) {
	a, err := nlp.New()
	if err != nil {
		return nil, fmt.Errorf("load language models: %w", err)
	}
	return a, nil
}
