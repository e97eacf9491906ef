package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/listener"
)

// endlessLog always has a record waiting, as a log with a backlog does,
// until it runs out after a number of reads.
type endlessLog struct{ seq, limit int64 }

var errExhausted = errors.New("the test log ran out")

func (l *endlessLog) Wait(ctx context.Context, after int64) error {
	if l.seq >= l.limit {
		return errExhausted
	}
	return nil
}

func (l *endlessLog) Read(ctx context.Context, after int64, max int) ([]intake.Record, error) {
	l.seq++
	return []intake.Record{{Seq: l.seq, Item: listener.Item{Kind: listener.KindCheckIn}}}, nil
}

func (l *endlessLog) LastSeq() int64 { return l.seq }

// detachedSink applies every batch, whether ctx has ended or not, as the
// desk does; it ends the run's context at its third batch.
type detachedSink struct {
	applied int
	cancel  context.CancelFunc
}

func (s *detachedSink) Cursor(context.Context) (int64, error) { return 0, nil }

func (s *detachedSink) Apply(ctx context.Context, batch []Routed) error {
	if s.applied++; s.applied == 3 {
		s.cancel()
	}
	return nil
}

// TestRunStopsWithABacklog: Run returns once its context ends, although
// records are still waiting and the sink never reports the end itself.
func TestRunStopsWithABacklog(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lg := &endlessLog{limit: 1000}
	sink := &detachedSink{cancel: cancel}
	r := New(Config{}, lg, sink, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	err := r.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v after %d batches, want context.Canceled after 3", err, sink.applied)
	}
	if sink.applied != 3 {
		t.Errorf("%d batches applied, want 3: none after the end", sink.applied)
	}
}
