package offer

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func polygon(rings ...[][2]float64) Geometry {
	raw := make([][][]float64, len(rings))
	for i, r := range rings {
		for _, p := range r {
			raw[i] = append(raw[i], []float64{p[0], p[1]})
		}
	}
	b, _ := json.Marshal(raw)
	return Geometry{Type: "Polygon", Coordinates: b}
}

func pointGeo(lon, lat float64) Geometry {
	return Geometry{Type: "Point", Coordinates: json.RawMessage(fmt.Sprintf("[%v,%v]", lon, lat))}
}

func TestHaversine(t *testing.T) {
	tests := []struct {
		name string
		a, b point
		want float64 // metres
		tol  float64
	}{
		{"same point", point{40.7411, -73.9897}, point{40.7411, -73.9897}, 0, 1e-9},
		// One degree of latitude is πR/180 on the sphere.
		{"one degree of latitude", point{0, 0}, point{1, 0}, math.Pi * EarthRadiusM / 180, 1e-6},
		// Paris (Notre-Dame) to London (Trafalgar Square): about 344 km.
		{"Paris to London", point{48.8530, 2.3499}, point{51.5080, -0.1281}, 344_000, 1_000},
		{"antipodes", point{0, 0}, point{0, 180}, math.Pi * EarthRadiusM, 1e-6},
		// 100 m north of Flatiron.
		{"100 m", point{40.7411, -73.9897}, point{40.7411 + 100/(math.Pi*EarthRadiusM/180), -73.9897}, 100, 1e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := haversineM(tt.a, tt.b); math.Abs(got-tt.want) > tt.tol {
				t.Errorf("haversine = %.3f m, want %.3f ± %g", got, tt.want, tt.tol)
			}
		})
	}
}

func TestPolygonContains(t *testing.T) {
	square := [][2]float64{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	hole := [][2]float64{{4, 4}, {6, 4}, {6, 6}, {4, 6}, {4, 4}}
	// A "C": concave, open to the east between lat 3 and 7.
	cShape := [][2]float64{{0, 0}, {10, 0}, {10, 3}, {3, 3}, {3, 7}, {10, 7}, {10, 10}, {0, 10}, {0, 0}}
	tests := []struct {
		name string
		geo  Geometry
		lat  float64
		lon  float64
		want bool
	}{
		{"centre", polygon(square), 5, 5, true},
		{"outside east", polygon(square), 5, 11, false},
		{"on an edge", polygon(square), 5, 10, true},
		{"on a vertex", polygon(square), 10, 10, true},
		{"ray through a vertex, inside", polygon(square), 0, 5, true},
		{"level with a vertex, outside", polygon(square), 10, -1, false},
		{"in the hole", polygon(square, hole), 5, 5, false},
		{"on the hole's edge", polygon(square, hole), 4, 5, true},
		{"between hole and shell", polygon(square, hole), 2, 2, true},
		{"in the C's mouth", polygon(cShape), 5, 8, false},
		{"in the C's arm", polygon(cShape), 8, 8, true},
		{"on the C's inner corner", polygon(cShape), 3, 3, true},
		{"clockwise ring", polygon([][2]float64{{0, 0}, {0, 10}, {10, 10}, {10, 0}, {0, 0}}), 5, 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh, err := compileGeometry(tt.geo, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := sh.contains(point{tt.lat, tt.lon}); got != tt.want {
				t.Errorf("contains(%g, %g) = %v, want %v", tt.lat, tt.lon, got, tt.want)
			}
		})
	}
}

func TestCompileGeometryErrors(t *testing.T) {
	square := [][2]float64{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	tests := []struct {
		name   string
		geo    Geometry
		radius float64
		want   string
	}{
		{"no type", Geometry{}, 0, "geometry.type: required"},
		{"line", Geometry{Type: "LineString", Coordinates: json.RawMessage(`[[0,0],[1,1]]`)}, 0, "not supported"},
		{"point without radius", pointGeo(2.35, 48.85), 0, "radius greater than 0"},
		{"negative radius", pointGeo(2.35, 48.85), -5, "radius greater than 0"},
		{"NaN radius", pointGeo(2.35, 48.85), math.NaN(), "radius greater than 0"},
		{"huge radius", pointGeo(2.35, 48.85), 1e6, "more than"},
		{"latitude out of range", pointGeo(2.35, 91), 10, "latitude 91"},
		{"longitude out of range", pointGeo(-181, 0), 10, "longitude -181"},
		{"point with three numbers", Geometry{Type: "Point", Coordinates: json.RawMessage(`[1,2,3]`)}, 10, "got 3 numbers"},
		{"point as a string", Geometry{Type: "Point", Coordinates: json.RawMessage(`"here"`)}, 10, "[longitude, latitude]"},
		{"polygon with radius", polygon(square), 10, "only a circle"},
		{"not closed", polygon([][2]float64{{0, 0}, {10, 0}, {10, 10}, {0, 10}}), 0, "not closed"},
		{"too few positions", polygon([][2]float64{{0, 0}, {10, 0}, {0, 0}}), 0, "at least 4"},
		{"collinear", polygon([][2]float64{{0, 0}, {5, 0}, {10, 0}, {0, 0}}), 0, "no area"},
		{"bow tie", polygon([][2]float64{{0, 0}, {10, 10}, {10, 0}, {0, 10}, {0, 0}}), 0, "crosses itself"},
		{"lopsided bow tie", polygon([][2]float64{{0, 0}, {10, 10}, {10, 0}, {0, 8}, {0, 0}}), 0, "crosses itself"},
		{"across the antimeridian", polygon([][2]float64{{179, 0}, {-179, 0}, {-179, 1}, {179, 1}, {179, 0}}), 0, "antimeridian"},
		{"empty polygon", Geometry{Type: "Polygon", Coordinates: json.RawMessage(`[]`)}, 0, "outer ring"},
		{"polygon latitude out of range", polygon([][2]float64{{0, 0}, {10, 0}, {10, 95}, {0, 0}}), 0, "latitude 95"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileGeometry(tt.geo, tt.radius)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCircleAcrossAntimeridian(t *testing.T) {
	// Fiji, 50 km across the antimeridian.
	sh, err := compileGeometry(pointGeo(179.99, -17), 5000)
	if err != nil {
		t.Fatal(err)
	}
	if len(sh.boxes) != 2 {
		t.Fatalf("boxes = %v, want two (one each side of ±180°)", sh.boxes)
	}
	ix := newIndex([]*Fence{{ID: 1, shape: sh}})
	for _, lon := range []float64{179.99, 180, -180, -179.99} {
		if got := ix.Match(nil, -17, lon); len(got) != 1 {
			t.Errorf("Match(-17, %g) = %d fences, want 1", lon, len(got))
		}
	}
	if got := ix.Match(nil, -17, -179); len(got) != 0 {
		t.Errorf("Match 100 km away = %d fences, want 0", len(got))
	}
}

// randomFences places n circles and polygons around a centre.
func randomFences(rng *rand.Rand, n int, lat, lon, spread float64) []*Fence {
	fences := make([]*Fence, n)
	for i := range fences {
		cLat := lat + (rng.Float64()-0.5)*spread
		cLon := lon + (rng.Float64()-0.5)*spread
		f := &Fence{ID: int64(i + 1), Name: fmt.Sprintf("store %d", i+1), TimeZone: "UTC"}
		if rng.IntN(3) == 0 {
			// A convex-or-not polygon: a star of 5-12 points around the centre.
			k := 5 + rng.IntN(8)
			ring := make([][2]float64, 0, k+1)
			for j := 0; j < k; j++ {
				a := 2 * math.Pi * float64(j) / float64(k)
				r := 0.0005 + rng.Float64()*0.002
				ring = append(ring, [2]float64{cLon + r*math.Cos(a), cLat + r*math.Sin(a)})
			}
			ring = append(ring, ring[0])
			f.Geometry = polygon(ring)
		} else {
			f.Geometry = pointGeo(cLon, cLat)
			f.RadiusM = 20 + rng.Float64()*300
		}
		if err := f.compile(); err != nil {
			panic(err)
		}
		fences[i] = f
	}
	return fences
}

// TestIndexMatchesScan checks the R-tree against the linear scan over
// random fences and points: the same fences, always.
func TestIndexMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fences := randomFences(rng, 500, 40.75, -73.98, 0.1)
	ix := newIndex(fences)
	var hits int
	for i := 0; i < 20_000; i++ {
		lat := 40.75 + (rng.Float64()-0.5)*0.11
		lon := -73.98 + (rng.Float64()-0.5)*0.11
		got, want := ix.Match(nil, lat, lon), ix.scan(nil, lat, lon)
		if len(got) != len(want) {
			t.Fatalf("point (%g, %g): index found %d fences, scan %d", lat, lon, len(got), len(want))
		}
		seen := map[int64]bool{}
		for _, f := range got {
			seen[f.ID] = true
		}
		for _, f := range want {
			if !seen[f.ID] {
				t.Fatalf("point (%g, %g): index missed fence %d", lat, lon, f.ID)
			}
		}
		hits += len(got)
	}
	if hits == 0 {
		t.Fatal("no point fell in any fence: the test tests nothing")
	}
}

func FuzzCompileGeometry(f *testing.F) {
	f.Add("Point", `[2.35,48.85]`, 100.0, 48.85, 2.35)
	f.Add("Polygon", `[[[0,0],[10,0],[10,10],[0,10],[0,0]]]`, 0.0, 5.0, 5.0)
	f.Add("Polygon", `[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]`, 0.0, 5.0, 5.0)
	f.Add("Polygon", `[[[0,0],[10,10],[10,0],[0,10],[0,0]]]`, 0.0, 1.0, 1.0)
	f.Add("Point", `[179.99,-17]`, 5000.0, -17.0, -180.0)
	f.Fuzz(func(t *testing.T, typ, coords string, radius, lat, lon float64) {
		sh, err := compileGeometry(Geometry{Type: typ, Coordinates: json.RawMessage(coords)}, radius)
		if err != nil {
			return
		}
		if len(sh.boxes) == 0 {
			t.Fatal("a compiled shape without a bounding box")
		}
		if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			return
		}
		// The index must never miss what the exact test finds.
		ix := newIndex([]*Fence{{ID: 1, shape: sh}})
		if in := sh.contains(point{lat, lon}); in != (len(ix.Match(nil, lat, lon)) == 1) {
			t.Fatalf("contains = %v but the index disagrees", in)
		}
	})
}
