package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
)

// Labels, in the order of confusion matrices.
const (
	Negative = iota
	Neutral
	Positive
)

// labelNames are the labels in confusion-matrix order.
var labelNames = [3]string{"negative", "neutral", "positive"}

// Example is one labelled text.
type Example struct {
	Text  string
	Label int // Negative, Neutral or Positive
}

// ErrNoData is returned (wrapped, with the path) when the data directory or
// one of its files is missing.
var ErrNoData = errors.New("evaluation data not found")

// Paths of the data sets under the data directory.
const (
	sentiment140Path = "sentiment140_test/testdata.manual.2009.06.14.csv"
	frenchPath       = "french_tweets_sentiment/french_tweets_sentiment.csv"
)

func openData(dataDir, rel string) (*os.File, error) {
	if st, err := os.Stat(dataDir); err != nil || !st.IsDir() {
		abs, _ := filepath.Abs(dataDir)
		return nil, fmt.Errorf("%w: data directory %q (%s) is absent; run from the repository root with ../shared/data next to it, or pass --data", ErrNoData, dataDir, abs)
	}
	p := filepath.Join(dataDir, rel)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q is absent", ErrNoData, p)
	}
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", p, err)
	}
	return f, nil
}

// LoadSentiment140 reads the Sentiment140 manual test set: polarity 0, 2, 4
// in the first column, the tweet in the sixth. HTML entities left in the
// tweets (&amp;, &quot;) are decoded, as a listener would.
func LoadSentiment140(dataDir string) ([]Example, error) {
	f, err := openData(dataDir, sentiment140Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 6
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	out := make([]Example, 0, len(recs))
	for i, rec := range recs {
		var l int
		switch rec[0] {
		case "0":
			l = Negative
		case "2":
			l = Neutral
		case "4":
			l = Positive
		default:
			return nil, fmt.Errorf("%s row %d: polarity %q, want 0, 2 or 4", f.Name(), i+1, rec[0])
		}
		out = append(out, Example{Text: html.UnescapeString(rec[5]), Label: l})
	}
	return out, nil
}

// LoadFrench reads one split ("train" or "val") of the French tweets.
func LoadFrench(dataDir, split string) ([]Example, error) {
	f, err := openData(dataDir, frenchPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 5
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if len(recs) == 0 || recs[0][0] != "split" || recs[0][2] != "label" || recs[0][4] != "text" {
		return nil, fmt.Errorf("%s: want header split,line_no,label,label_name,text", f.Name())
	}
	var out []Example
	for i, rec := range recs[1:] {
		if rec[0] != split {
			continue
		}
		var l int
		switch rec[2] {
		case "0":
			l = Negative
		case "1":
			l = Neutral
		case "2":
			l = Positive
		default:
			return nil, fmt.Errorf("%s row %d: label %q, want 0, 1 or 2", f.Name(), i+2, rec[2])
		}
		out = append(out, Example{Text: rec[4], Label: l})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no rows in split %q", f.Name(), split)
	}
	return out, nil
}
