package offer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/listener"
)

// NYC's bounding box, as the Gowalla sample was cut (README of the data).
const (
	nycMinLat, nycMaxLat = 40.4774, 40.9176
	nycMinLon, nycMaxLon = -74.2589, -73.7004
)

// benchFences places n fences uniformly over New York: two circles (50-200
// m) for one polygon (a 6-point star about 300 m across).
func benchFences(n int) []*Fence {
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	fences := make([]*Fence, n)
	for i := range fences {
		lat := nycMinLat + rng.Float64()*(nycMaxLat-nycMinLat)
		lon := nycMinLon + rng.Float64()*(nycMaxLon-nycMinLon)
		f := &Fence{ID: int64(i + 1), Name: "s", TimeZone: "UTC"}
		if i%3 == 2 {
			ring := make([][2]float64, 0, 13)
			for j := 0; j < 12; j++ {
				r := 0.0015
				if j%2 == 1 {
					r = 0.0007
				}
				a := float64(j) * math.Pi / 6
				ring = append(ring, [2]float64{lon + r*math.Cos(a), lat + r*math.Sin(a)})
			}
			ring = append(ring, ring[0])
			f.Geometry = polygon(ring)
		} else {
			f.Geometry, f.RadiusM = pointGeo(lon, lat), 50+rng.Float64()*150
		}
		if err := f.compile(); err != nil {
			panic(err)
		}
		fences[i] = f
	}
	return fences
}

// benchPoints returns check-in positions: half near a fence (within its
// box), half anywhere in the city, the mix a real feed of check-ins at
// venues gives.
func benchPoints(fences []*Fence, n int) [][2]float64 {
	rng := rand.New(rand.NewPCG(9, uint64(n)))
	pts := make([][2]float64, n)
	for i := range pts {
		if i%2 == 0 {
			b := fences[rng.IntN(len(fences))].shape.boxes[0]
			pts[i] = [2]float64{b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1]), b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])}
		} else {
			pts[i] = [2]float64{nycMinLat + rng.Float64()*(nycMaxLat-nycMinLat), nycMinLon + rng.Float64()*(nycMaxLon-nycMinLon)}
		}
	}
	return pts
}

// BenchmarkMatch compares, in one run, the R-tree with a linear scan of the
// same fences (bounding box, then exact test). One op is one check-in.
//
//	go test -run '^$' -bench BenchmarkMatch -benchtime 2s ./offer/
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		fences := benchFences(n)
		ix := newIndex(fences)
		pts := benchPoints(fences, 1<<16)
		for _, m := range []struct {
			name string
			fn   func(dst []*Fence, lat, lon float64) []*Fence
		}{{"rtree", ix.Match}, {"scan", ix.scan}} {
			b.Run(fmt.Sprintf("%s/fences=%d", m.name, n), func(b *testing.B) {
				var hits []*Fence
				var found int
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					p := pts[i&(len(pts)-1)]
					hits = m.fn(hits[:0], p[0], p[1])
					found += len(hits)
					i++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkins/s")
				if found == 0 {
					b.Fatal("no check-in matched: the benchmark measures nothing")
				}
			})
		}
	}
}

// BenchmarkEngine measures the whole engine on a batch of 512 check-ins:
// match, decide (consent, caps), record, commit with the cursor. One op is
// one check-in.
func BenchmarkEngine(b *testing.B) {
	fences := benchFences(1_000)
	clk := &clock{t: monday10}
	e := openEngine(b, Config{Now: clk.Now, MaxAge: -1}, nil, nil)
	ctx := context.Background()
	for _, f := range fences {
		if _, err := e.PutFence(ctx, 0, Fence{Name: "s", Tags: []string{"city"}, TimeZone: "America/New_York", Geometry: f.Geometry, RadiusM: f.RadiusM}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := e.PutCampaign(ctx, 0, Campaign{Name: "all", FenceTags: []string{"city"}, Offer: Offer{Template: "hi"}}); err != nil {
		b.Fatal(err)
	}
	pts := benchPoints(fences, 1<<16)
	for u := 0; u < 1000; u += 3 {
		if _, err := e.PutConsent(ctx, "bench", fmt.Sprint("u", u), ConsentRequest{Granted: true, Channel: "web form", Proof: "bench"}, ""); err != nil {
			b.Fatal(err)
		}
	}
	const batch = 512
	recs := make([]intake.Record, batch)
	var seq int64
	at := monday10
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		for i := range recs {
			seq++
			at = at.Add(time.Second)
			p := pts[seq&(1<<16-1)]
			recs[i] = intake.Record{Seq: seq, Version: 1, Item: listener.CheckInItem(listener.CheckIn{
				Source: "bench", ID: fmt.Sprint(seq), CreatedAt: at, User: listener.CheckInUser{ID: fmt.Sprint("u", seq%1000)}, Lat: p[0], Lon: p[1],
			})}
		}
		clk.Set(at)
		if err := e.process(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "checkins/s")
}
