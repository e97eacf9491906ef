package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// WriteNDJSON writes the next n mentions of g to w, one JSON object a line,
// in the shape POST /api/v1/mentions accepts: a replay file.
func WriteNDJSON(w io.Writer, g *Generator, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range n {
		m := g.Next()
		if err := enc.Encode(&m); err != nil {
			return fmt.Errorf("demo: encode mention %d: %w", i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("demo: write mentions: %w", err)
	}
	return nil
}
