package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
)

// maxKeptErrors bounds the bad lines a Stats keeps for display; all are
// counted.
const maxKeptErrors = 1000

// maxLag is how far behind its schedule a paced replay may fall (a slow
// consumer) before it skips ahead rather than bursting to catch up.
const maxLag = time.Second

// Stats counts what a replay did.
type Stats struct {
	// Lines counts the non-blank lines read.
	Lines int
	// Sent counts the mentions handed to the consumer.
	Sent int
	// Bad counts the lines that were not valid mentions.
	Bad int
	// Errors holds the first bad lines (up to 1,000), in file order.
	Errors []LineError
}

func (s *Stats) bad(line int, msg string) {
	s.Bad++
	if len(s.Errors) < maxKeptErrors {
		s.Errors = append(s.Errors, LineError{Line: line, Error: msg})
	}
}

// Source replays an NDJSON file of mentions. Build it with New. It is safe
// for concurrent use; Run may be called again to replay the file again.
type Source struct {
	cfg     Config
	logger  *slog.Logger
	metrics *metrics

	mu    sync.Mutex
	stats Stats
}

var _ listener.Source = (*Source)(nil)

// New validates cfg and returns a Source. logger and reg may be nil.
func New(cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Source{
		cfg:     cfg,
		logger:  logger.With("component", "replay", "source", cfg.Name),
		metrics: newMetrics(reg),
	}, nil
}

// Name returns Config.Name.
func (s *Source) Name() string { return s.cfg.Name }

// Stats returns a copy of the counts of the current or last Run.
func (s *Source) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Errors = append([]LineError(nil), s.stats.Errors...)
	return st
}

// Run reads the file and sends each valid mention on out, paced at
// Config.Rate, until the end of the file (it returns nil) or until ctx is
// done (it returns ctx.Err()). Bad lines are logged with their number,
// counted, and skipped. It returns an error if the file cannot be opened or
// read. It never closes out.
func (s *Source) Run(ctx context.Context, out chan<- listener.Item) error {
	f, err := os.Open(s.cfg.Path)
	if err != nil {
		return fmt.Errorf("replay: open %q: %w", s.cfg.Path, err)
	}
	defer f.Close()
	s.mu.Lock()
	s.stats = Stats{}
	s.mu.Unlock()

	lr := newLineReader(f)
	var (
		step  time.Duration
		next  = time.Now()
		timer = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	if s.cfg.Rate > 0 {
		step = time.Duration(float64(time.Second) / s.cfg.Rate)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, n, err := lr.next()
		switch {
		case errors.Is(err, io.EOF):
			st := s.Stats()
			s.logger.Info("replay_done", "lines", st.Lines, "sent", st.Sent, "bad", st.Bad)
			return nil
		case errors.Is(err, errLineTooLong):
			s.badLine(n, err.Error())
			continue
		case err != nil:
			return fmt.Errorf("replay: read %q after line %d: %w", s.cfg.Path, n, err)
		}
		decoded, rejected, err := listener.DecodeMentions(line, true)
		switch {
		case err != nil:
			s.badLine(n, err.Error())
			continue
		case len(rejected) > 0:
			s.badLine(n, rejected[0].Error)
			continue
		case len(decoded) != 1:
			s.badLine(n, fmt.Sprintf("%d items on one line", len(decoded)))
			continue
		}
		if step > 0 {
			if wait := time.Until(next); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
			}
			next = next.Add(step)
			if now := time.Now(); now.Sub(next) > maxLag {
				next = now
			}
		}
		select {
		case out <- decoded[0].Item:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
		s.stats.Lines++
		s.stats.Sent++
		s.mu.Unlock()
		s.metrics.lines.WithLabelValues("sent").Inc()
	}
}

func (s *Source) badLine(n int, msg string) {
	s.mu.Lock()
	s.stats.Lines++
	s.stats.bad(n, msg)
	s.mu.Unlock()
	s.metrics.lines.WithLabelValues("bad").Inc()
	s.logger.Warn("replay_bad_line", "line", n, "error", msg)
}
