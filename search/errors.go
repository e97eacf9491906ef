package search

import "errors"

// ErrClosed is returned by Search after Close.
var ErrClosed = errors.New("search: index closed")

// ErrRunning is returned by Run and CatchUp when the other (or another Run)
// is already feeding the index.
var ErrRunning = errors.New("search: index already being fed")

// RequestError is a search request Vigie cannot run: a query that does not
// parse, a bad date, a size out of range, an unknown facet. Its message says
// which parameter is wrong and why; HTTP maps it to 400.
type RequestError struct {
	Param string // the query parameter at fault: q, from, to, size, page, sort, facets
	Msg   string
}

func (e *RequestError) Error() string { return e.Param + ": " + e.Msg }

func badRequest(param, msg string) error { return &RequestError{Param: param, Msg: msg} }
