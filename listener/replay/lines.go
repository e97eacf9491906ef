package replay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes bounds one line of a replay file: a mention of the largest
// text the ingest accepts (listener.MaxTextBytes), JSON-escaped, with room
// to spare.
const MaxLineBytes = 1 << 20

// LineError is a line of the file that was not accepted, and why.
type LineError struct {
	// Line is the 1-based line number in the file.
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// errLineTooLong reports a line over MaxLineBytes.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineBytes)

// lineReader yields the non-blank lines of an NDJSON stream with their line
// numbers.
type lineReader struct {
	br   *bufio.Reader
	n    int
	buf  []byte
	done bool
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next non-blank line, trimmed, and its number. The slice
// is valid until the next call. A line over MaxLineBytes is skipped to its
// end and returned as errLineTooLong with its number. At the end it returns
// io.EOF; read errors are returned as they come.
func (lr *lineReader) next() ([]byte, int, error) {
	for {
		if lr.done {
			return nil, lr.n, io.EOF
		}
		lr.buf = lr.buf[:0]
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = lr.br.ReadSlice('\n')
			if !tooLong {
				if len(lr.buf)+len(chunk) > MaxLineBytes+2 { // +2: the line end
					tooLong, lr.buf = true, lr.buf[:0]
				} else {
					lr.buf = append(lr.buf, chunk...)
				}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			break
		}
		switch {
		case errors.Is(err, io.EOF):
			lr.done = true
			if len(lr.buf) == 0 && !tooLong {
				return nil, lr.n, io.EOF
			}
		case err != nil:
			return nil, lr.n, err
		}
		lr.n++
		if tooLong {
			return nil, lr.n, errLineTooLong
		}
		line := lr.buf
		if lr.n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		line = bytes.TrimSpace(line) // also drops "\r\n" and "\n"
		if len(line) == 0 {
			continue
		}
		return line, lr.n, nil
	}
}
