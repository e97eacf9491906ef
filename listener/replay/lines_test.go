package replay

import (
	"errors"
	"io"
	"strings"
	"testing"
)

type gotLine struct {
	n    int
	text string
	err  error
}

func readAll(t *testing.T, in string) []gotLine {
	t.Helper()
	lr := newLineReader(strings.NewReader(in))
	var out []gotLine
	for {
		line, n, err := lr.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			t.Fatalf("next: %v", err)
		}
		out = append(out, gotLine{n, string(line), err})
	}
}

func TestLineReader(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxLineBytes+10)
	tests := []struct {
		name string
		in   string
		want []gotLine
	}{
		{"empty", "", nil},
		{"LF", "a\nb\n", []gotLine{{1, "a", nil}, {2, "b", nil}}},
		{"no final newline", "a\nb", []gotLine{{1, "a", nil}, {2, "b", nil}}},
		{"CRLF", "a\r\nb\r\n", []gotLine{{1, "a", nil}, {2, "b", nil}}},
		{"blank lines keep numbering", "\n\na\n  \r\n\tb\n\n", []gotLine{{3, "a", nil}, {5, "b", nil}}},
		{"BOM", "\ufeffa\nb\n", []gotLine{{1, "a", nil}, {2, "b", nil}}},
		{"BOM then CRLF blank", "\ufeff\r\na\r\n", []gotLine{{2, "a", nil}}},
		{"BOM only at the start", "a\n\ufeffb\n", []gotLine{{1, "a", nil}, {2, "\ufeffb", nil}}},
		{"too long line is skipped", "a\n" + long + "\nb\n", []gotLine{{1, "a", nil}, {2, "", errLineTooLong}, {3, "b", nil}}},
		{"too long last line", "a\n" + long, []gotLine{{1, "a", nil}, {2, "", errLineTooLong}}},
		{"exactly the limit", strings.Repeat("y", MaxLineBytes) + "\r\n", []gotLine{{1, strings.Repeat("y", MaxLineBytes), nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := readAll(t, tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].n != tt.want[i].n || got[i].text != tt.want[i].text || !errors.Is(got[i].err, tt.want[i].err) {
					t.Errorf("line %d: got (%d, %.20q, %v), want (%d, %.20q, %v)", i, got[i].n, got[i].text, got[i].err, tt.want[i].n, tt.want[i].text, tt.want[i].err)
				}
			}
		})
	}
}
