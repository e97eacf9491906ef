package offer

import (
	"github.com/tidwall/rtree"
)

// Index finds the fences that contain a point: an R-tree of the fences'
// bounding boxes narrows the candidates, then the exact test (haversine for
// a circle, even-odd crossing for a polygon) decides. An Index is immutable
// once built and safe for concurrent use.
type Index struct {
	tree   rtree.RTreeG[*Fence]
	fences []*Fence
}

// newIndex indexes compiled fences.
func newIndex(fences []*Fence) *Index {
	ix := &Index{fences: fences}
	for _, f := range fences {
		for _, b := range f.shape.boxes {
			ix.tree.Insert(b.Min, b.Max, f)
		}
	}
	return ix
}

// Len returns the number of fences indexed.
func (ix *Index) Len() int { return len(ix.fences) }

// Match appends to dst the fences that contain (lat, lon) and returns it.
// A fence is listed once even when two of its boxes hold the point.
func (ix *Index) Match(dst []*Fence, lat, lon float64) []*Fence {
	p := point{Lat: lat, Lon: lon}
	q := [2]float64{lon, lat}
	start := len(dst)
	ix.tree.Search(q, q, func(_, _ [2]float64, f *Fence) bool {
		if f.shape.contains(p) {
			for _, seen := range dst[start:] {
				if seen == f {
					return true
				}
			}
			dst = append(dst, f)
		}
		return true
	})
	return dst
}

// scan is Match without the R-tree: a linear pass over every fence's
// bounding boxes, then the exact test. It is the baseline the benchmarks
// compare the index with, and the oracle of its tests.
func (ix *Index) scan(dst []*Fence, lat, lon float64) []*Fence {
	p := point{Lat: lat, Lon: lon}
	for _, f := range ix.fences {
		for _, b := range f.shape.boxes {
			if lon >= b.Min[0] && lon <= b.Max[0] && lat >= b.Min[1] && lat <= b.Max[1] {
				if f.shape.contains(p) {
					dst = append(dst, f)
				}
				break
			}
		}
	}
	return dst
}
