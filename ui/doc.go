// Package ui is Vigie's web interface: a single page application of static
// files (HTML, CSS and ES modules, no build step) embedded in the binary.
//
// The application talks to the server only through the public HTTP API
// (/api/v1/...) and the websocket (/ws), so this package imports nothing
// from the rest of Vigie. Its third-party libraries (Preact, htm, uPlot) are
// vendored from npm under static/vendor, pinned, with their licenses; nothing
// is fetched from the internet at run time.
//
// Handler and Register are safe for concurrent use: the files are read-only
// and indexed once, when the package is initialised.
package ui
