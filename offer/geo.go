package offer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// EarthRadiusM is the mean Earth radius (IUGG), in metres, used by the
// haversine distance. Over a store-sized circle the spherical model errs by
// less than 0.5%, far below a phone's GPS error.
const EarthRadiusM = 6_371_008.8

// Limits on a fence's shape. They keep one bad fence from costing every
// check-in: the exact point-in-polygon test is linear in the vertices.
const (
	// MaxVertices bounds the positions of a polygon, all rings together.
	MaxVertices = 4096
	// MaxRadiusM bounds a circle's radius: 50 km is a city, far past any
	// store's doorstep.
	MaxRadiusM = 50_000
)

// Geometry is a fence's shape as a GeoJSON geometry (RFC 7946): a "Point"
// (the centre of a circle whose radius is the fence's RadiusM) or a
// "Polygon" (an outer ring, then holes; each ring closed, positions
// [longitude, latitude]).
type Geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// point is a WGS84 position in degrees.
type point struct{ Lat, Lon float64 }

// box is a bounding box in degrees: min and max as [lon, lat], the order
// the R-tree is given.
type box struct{ Min, Max [2]float64 }

// shape is a compiled geometry: exactly one of circle and rings is set.
type shape struct {
	circle *circle
	// rings are the polygon's rings, the first the outer one, the others
	// holes; each closed (first position repeated last).
	rings [][]point
	// boxes are the bounding boxes to index: one, or two for a circle that
	// crosses the antimeridian.
	boxes []box
}

type circle struct {
	centre  point
	radiusM float64
}

// compileGeometry checks g (with radius for a circle) and builds its shape.
func compileGeometry(g Geometry, radiusM float64) (shape, error) {
	switch g.Type {
	case "Point":
		var c []float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return shape{}, fmt.Errorf("geometry.coordinates: a Point is [longitude, latitude]: %s", jsonMessage(err))
		}
		if len(c) != 2 {
			return shape{}, fmt.Errorf("geometry.coordinates: a Point is [longitude, latitude], got %d numbers", len(c))
		}
		p := point{Lat: c[1], Lon: c[0]}
		if err := checkPoint(p); err != nil {
			return shape{}, fmt.Errorf("geometry.coordinates: %w", err)
		}
		if math.IsNaN(radiusM) || radiusM <= 0 {
			return shape{}, errors.New("radius_m: a circle (Point geometry) needs a radius greater than 0")
		}
		if radiusM > MaxRadiusM {
			return shape{}, fmt.Errorf("radius_m: %g m is more than the %d m allowed", radiusM, MaxRadiusM)
		}
		c2 := &circle{centre: p, radiusM: radiusM}
		return shape{circle: c2, boxes: c2.boxes()}, nil
	case "Polygon":
		if radiusM != 0 {
			return shape{}, errors.New("radius_m: only a circle (Point geometry) has a radius")
		}
		var raw [][][]float64
		if err := json.Unmarshal(g.Coordinates, &raw); err != nil {
			return shape{}, fmt.Errorf("geometry.coordinates: a Polygon is a list of rings of [longitude, latitude]: %s", jsonMessage(err))
		}
		return compilePolygon(raw)
	case "":
		return shape{}, errors.New("geometry.type: required (Point or Polygon)")
	}
	return shape{}, fmt.Errorf("geometry.type: %q is not supported (Point with radius_m, or Polygon)", g.Type)
}

func compilePolygon(raw [][][]float64) (shape, error) {
	if len(raw) == 0 {
		return shape{}, errors.New("geometry.coordinates: a Polygon needs an outer ring")
	}
	var n int
	rings := make([][]point, len(raw))
	for i, r := range raw {
		n += len(r)
		if n > MaxVertices {
			return shape{}, fmt.Errorf("geometry.coordinates: more than %d positions", MaxVertices)
		}
		if len(r) < 4 {
			return shape{}, fmt.Errorf("geometry.coordinates[%d]: a ring needs at least 4 positions (a triangle, closed), got %d", i, len(r))
		}
		ring := make([]point, len(r))
		for j, c := range r {
			if len(c) != 2 {
				return shape{}, fmt.Errorf("geometry.coordinates[%d][%d]: a position is [longitude, latitude], got %d numbers", i, j, len(c))
			}
			ring[j] = point{Lat: c[1], Lon: c[0]}
			if err := checkPoint(ring[j]); err != nil {
				return shape{}, fmt.Errorf("geometry.coordinates[%d][%d]: %w", i, j, err)
			}
			if j > 0 && math.Abs(ring[j].Lon-ring[j-1].Lon) > 180 {
				return shape{}, fmt.Errorf("geometry.coordinates[%d][%d]: an edge spans more than 180° of longitude; cut the polygon at the antimeridian (RFC 7946 §3.1.9)", i, j)
			}
		}
		if ring[0] != ring[len(ring)-1] {
			return shape{}, fmt.Errorf("geometry.coordinates[%d]: the ring is not closed (the last position must repeat the first)", i)
		}
		if a, b, ok := selfIntersection(ring); ok {
			return shape{}, fmt.Errorf("geometry.coordinates[%d]: the ring crosses itself (edges %d and %d)", i, a, b)
		}
		if math.Abs(ringArea(ring)) == 0 {
			return shape{}, fmt.Errorf("geometry.coordinates[%d]: the ring has no area (its positions are collinear or repeated)", i)
		}
		rings[i] = ring
	}
	b := box{Min: [2]float64{math.Inf(1), math.Inf(1)}, Max: [2]float64{math.Inf(-1), math.Inf(-1)}}
	for _, p := range rings[0] {
		b.Min[0], b.Min[1] = math.Min(b.Min[0], p.Lon), math.Min(b.Min[1], p.Lat)
		b.Max[0], b.Max[1] = math.Max(b.Max[0], p.Lon), math.Max(b.Max[1], p.Lat)
	}
	return shape{rings: rings, boxes: []box{b}}, nil
}

func checkPoint(p point) error {
	switch {
	case math.IsNaN(p.Lat) || math.IsNaN(p.Lon) || math.IsInf(p.Lat, 0) || math.IsInf(p.Lon, 0):
		return errors.New("not a finite number")
	case p.Lat < -90 || p.Lat > 90:
		return fmt.Errorf("latitude %g is outside [-90, 90]", p.Lat)
	case p.Lon < -180 || p.Lon > 180:
		return fmt.Errorf("longitude %g is outside [-180, 180]", p.Lon)
	}
	return nil
}

// ringArea returns twice the signed planar area of a closed ring (shoelace).
func ringArea(r []point) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i].Lon*r[i+1].Lat - r[i+1].Lon*r[i].Lat
	}
	return a
}

// selfIntersection reports two non-adjacent edges of a closed ring that
// touch or cross. It is quadratic, which MaxVertices keeps to a few
// milliseconds, and runs only when a fence is written.
func selfIntersection(r []point) (int, int, bool) {
	n := len(r) - 1 // edges
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if j == i+1 || (i == 0 && j == n-1) {
				continue // adjacent edges share a vertex
			}
			if segmentsIntersect(r[i], r[i+1], r[j], r[j+1]) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

func orient(a, b, c point) float64 {
	return (b.Lon-a.Lon)*(c.Lat-a.Lat) - (b.Lat-a.Lat)*(c.Lon-a.Lon)
}

func onSegment(a, b, p point) bool {
	return math.Min(a.Lon, b.Lon) <= p.Lon && p.Lon <= math.Max(a.Lon, b.Lon) &&
		math.Min(a.Lat, b.Lat) <= p.Lat && p.Lat <= math.Max(a.Lat, b.Lat)
}

func segmentsIntersect(p1, p2, q1, q2 point) bool {
	d1, d2 := orient(q1, q2, p1), orient(q1, q2, p2)
	d3, d4 := orient(p1, p2, q1), orient(p1, p2, q2)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(q1, q2, p1)) || (d2 == 0 && onSegment(q1, q2, p2)) ||
		(d3 == 0 && onSegment(p1, p2, q1)) || (d4 == 0 && onSegment(p1, p2, q2))
}

// haversineM returns the great-circle distance between a and b in metres.
func haversineM(a, b point) float64 {
	const rad = math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * EarthRadiusM * math.Asin(math.Min(1, math.Sqrt(s)))
}

// boxes returns the circle's bounding boxes in degrees: one, or two when it
// crosses the antimeridian; the whole band of longitudes when it reaches a
// pole.
func (c *circle) boxes() []box {
	const deg = 180 / math.Pi
	// A small margin (1 m) so that float rounding never puts a point inside
	// the circle but outside its box.
	dLat := (c.radiusM + 1) / EarthRadiusM * deg
	minLat, maxLat := c.centre.Lat-dLat, c.centre.Lat+dLat
	if minLat <= -90 || maxLat >= 90 {
		return []box{{Min: [2]float64{-180, math.Max(-90, minLat)}, Max: [2]float64{180, math.Min(90, maxLat)}}}
	}
	// The widest longitude span is at the latitude farthest from the equator.
	cos := math.Cos(math.Max(math.Abs(minLat), math.Abs(maxLat)) / deg)
	dLon := dLat / cos
	if dLon >= 180 {
		return []box{{Min: [2]float64{-180, minLat}, Max: [2]float64{180, maxLat}}}
	}
	minLon, maxLon := c.centre.Lon-dLon, c.centre.Lon+dLon
	switch {
	case minLon < -180:
		return []box{
			{Min: [2]float64{-180, minLat}, Max: [2]float64{maxLon, maxLat}},
			{Min: [2]float64{minLon + 360, minLat}, Max: [2]float64{180, maxLat}},
		}
	case maxLon > 180:
		return []box{
			{Min: [2]float64{minLon, minLat}, Max: [2]float64{180, maxLat}},
			{Min: [2]float64{-180, minLat}, Max: [2]float64{maxLon - 360, maxLat}},
		}
	}
	return []box{{Min: [2]float64{minLon, minLat}, Max: [2]float64{maxLon, maxLat}}}
}

// contains reports whether p is inside the shape. A point on a polygon's
// boundary (an edge or a vertex of any ring) is inside: a customer standing
// on the store's property line is at the store.
func (s *shape) contains(p point) bool {
	if s.circle != nil {
		return haversineM(s.circle.centre, p) <= s.circle.radiusM
	}
	if len(s.rings) == 0 {
		return false
	}
	b := s.boxes[0]
	if p.Lon < b.Min[0] || p.Lon > b.Max[0] || p.Lat < b.Min[1] || p.Lat > b.Max[1] {
		return false
	}
	in, edge := inRing(s.rings[0], p)
	if edge {
		return true
	}
	if !in {
		return false
	}
	for _, hole := range s.rings[1:] {
		inHole, onHole := inRing(hole, p)
		if onHole {
			return true
		}
		if inHole {
			return false
		}
	}
	return true
}

// inRing is the even-odd crossing test: whether p is strictly inside the
// closed ring r, and whether it lies on one of its edges.
func inRing(r []point, p point) (inside, edge bool) {
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if orient(a, b, p) == 0 && onSegment(a, b, p) {
			return false, true
		}
		// Half-open rule on latitude, so that a ray through a vertex
		// counts it once.
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) {
			x := a.Lon + (p.Lat-a.Lat)*(b.Lon-a.Lon)/(b.Lat-a.Lat)
			if p.Lon < x {
				inside = !inside
			}
		}
	}
	return inside, false
}

func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("expected %s, got a JSON %s", te.Type, te.Value)
	}
	return err.Error()
}
