package source

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigie/vigie/listener"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		name string
		b    Backoff
		want []time.Duration
	}{
		{"zero value", Backoff{}, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"exponential capped", Backoff{Initial: 5 * time.Second, Max: 320 * time.Second}, []time.Duration{5, 10, 20, 40, 80, 160, 320, 320}},
		{"linear (X network errors)", Backoff{Initial: 250 * time.Millisecond, Step: 250 * time.Millisecond, Max: 16 * time.Second}, []time.Duration{250, 500, 750, 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unit := time.Duration(1)
			switch tt.name {
			case "exponential capped":
				unit = time.Second
			case "linear (X network errors)":
				unit = time.Millisecond
			}
			for i, w := range tt.want {
				if got := tt.b.Next(); got != w*unit {
					t.Fatalf("delay %d = %v, want %v", i, got, w*unit)
				}
			}
			tt.b.Reset()
			if got := tt.b.Next(); got != tt.want[0]*unit {
				t.Errorf("after Reset: %v, want %v", got, tt.want[0]*unit)
			}
		})
	}
	linear := Backoff{Initial: 250 * time.Millisecond, Step: 250 * time.Millisecond, Max: 16 * time.Second}
	for range 100 {
		linear.Next()
	}
	if got := linear.Next(); got != 16*time.Second {
		t.Errorf("linear cap: %v", got)
	}
	j := Backoff{Initial: time.Second, Jitter: 0.5}
	for range 20 {
		j.Reset()
		if d := j.Next(); d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("jittered delay %v outside [0.5 s, 1 s]", d)
		}
	}
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a done context: %v", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

func TestSeen(t *testing.T) {
	s := NewSeen(2)
	if !s.Add("a") || !s.Add("b") || s.Add("a") {
		t.Fatal("a and b are new once")
	}
	s.Add("c") // forgets a
	if s.Has("a") || !s.Has("b") || !s.Has("c") {
		t.Fatal("Seen must forget the oldest key")
	}
	if !s.Add("a") {
		t.Fatal("a forgotten key is new again")
	}
}

func TestTracker(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, "test")
	m2 := NewMetrics(reg, "test") // a second source of the same network
	now := time.Date(2026, 11, 22, 10, 0, 5, 0, time.UTC)
	tr := NewTracker("a", m)
	tr.now = func() time.Time { return now }
	tr2 := NewTracker("b", m2)
	tr.Connected(true)
	tr2.Connected(true)
	tr.Item(listener.KindMention, now.Add(-3*time.Second))
	tr.Item(listener.KindTombstone, time.Time{})
	tr.Reconnect()
	tr.Error(errors.New("boom"))
	st := tr.Status()
	if !st.Connected || st.ItemsPerMinute != 2 || st.LagSeconds != 3 || st.Reconnects != 1 || st.LastError != "boom" || !st.LastErrorAt.Equal(now) {
		t.Errorf("status %+v", st)
	}
	now = now.Add(2 * time.Minute)
	if st := tr.Status(); st.ItemsPerMinute != 0 {
		t.Errorf("items a minute after two minutes: %d", st.ItemsPerMinute)
	}
	if got := testutil.ToFloat64(m.connected.WithLabelValues("b")); got != 1 {
		t.Errorf("connected{b} = %v", got)
	}
	if got := testutil.ToFloat64(m.items.WithLabelValues("a", "mention")); got != 1 {
		t.Errorf("items{a,mention} = %v", got)
	}
	out := make(chan listener.Item)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.Send(ctx, out, listener.TombstoneItem(listener.Tombstone{Source: "a", ID: "1"}), time.Time{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send on a done context: %v", err)
	}
}

func TestMemCursors(t *testing.T) {
	var c MemCursors
	ctx := context.Background()
	if v, err := c.Cursor(ctx, "x"); v != "" || err != nil {
		t.Fatalf("unset cursor: %q %v", v, err)
	}
	_ = c.SetCursor(ctx, "x", "1")
	if v, _ := c.Cursor(ctx, "x"); v != "1" {
		t.Fatalf("cursor %q", v)
	}
}

func TestLang(t *testing.T) {
	for in, want := range map[string]string{"en": "en", "pt-BR": "pt", "zh_TW": "zh", "FR": "fr", "und": "", "qme": "", "": "", "e1": "", "kab": ""} {
		if got := Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}

type recorder struct {
	ups  []bool
	errs []string
}

func (r *recorder) Connected(ok bool) { r.ups = append(r.ups, ok) }
func (r *recorder) Failed(err error)  { r.errs = append(r.errs, err.Error()) }

func TestTrackerObserver(t *testing.T) {
	tr := NewTracker("a", nil)
	var r recorder
	tr.Connected(true) // before Observe: not told
	tr.Observe(&r)
	tr.Connected(false)
	tr.Error(errors.New("boom"))
	tr.Observe(nil)
	tr.Error(errors.New("after"))
	if len(r.ups) != 1 || r.ups[0] || len(r.errs) != 1 || r.errs[0] != "boom" {
		t.Errorf("observer saw %+v", r)
	}
}
