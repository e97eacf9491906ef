package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/vigie/vigie/router/nlp/eval"
)

// runEval measures router/nlp on the shared data (see docs/EVALUATION.md).
// --fit fits the neutral band on the French training split instead.
func runEval(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	data := fs.String("data", "../shared/data", "directory holding sentiment140_test/ and french_tweets_sentiment/")
	fit := fs.Bool("fit", false, "fit the neutral band on the French training split and print it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fit {
		b, err := eval.FitBand(ctx, *data, stdout)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		fmt.Fprintf(stdout, "neutral band: [%.2f, %.2f]\n", b.Negative, b.Positive)
		return nil
	}
	if _, err := eval.Run(ctx, *data, stdout); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	return nil
}
