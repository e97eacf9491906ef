package replay

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/listener/demo"
)

// goodLines returns n valid mention lines from the demo generator.
func goodLines(tb testing.TB, n int) []string {
	tb.Helper()
	g, err := demo.New(demo.Config{Seed: 1, Now: func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) }}, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := demo.WriteNDJSON(&buf, g, n); err != nil {
		tb.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

// writeFile writes content to a file in a temporary directory.
func writeFile(tb testing.TB, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "mentions.ndjson")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
