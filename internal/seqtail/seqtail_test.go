package seqtail

import (
	"reflect"
	"testing"
)

type entry struct {
	Seq int64
	V   string
}

func seqOf(e *entry) int64 { return e.Seq }

func entries(from, to int64) []entry {
	var out []entry
	for s := from; s <= to; s++ {
		out = append(out, entry{s, "v"})
	}
	return out
}

func TestTail(t *testing.T) {
	tl := New(4, seqOf)
	if _, ok := tl.Read(0, 10); ok {
		t.Fatal("an empty tail covers nothing")
	}
	tl.Append(entries(1, 3)...)
	if got, ok := tl.Read(0, 2); !ok || !reflect.DeepEqual(got, entries(1, 2)) {
		t.Fatalf("Read(0, 2) = %v, %v", got, ok)
	}
	if got, ok := tl.Read(3, 2); !ok || got != nil {
		t.Fatalf("Read past the newest = %v, %v; want nothing, covered", got, ok)
	}
	// Past 2×max, the oldest go; what remains is still served.
	tl.Append(entries(4, 9)...)
	if _, ok := tl.Read(0, 10); ok {
		t.Fatal("the trimmed entries are still covered")
	}
	if got, ok := tl.Read(6, 10); !ok || !reflect.DeepEqual(got, entries(7, 9)) {
		t.Fatalf("Read(6, 10) = %v, %v", got, ok)
	}
	// A copy: the caller may change what it got.
	got, _ := tl.Read(6, 1)
	got[0].V = "changed"
	if again, _ := tl.Read(6, 1); again[0].V != "v" {
		t.Fatal("Read returned the tail's own memory")
	}
	// A gap starts over.
	tl.Append(entries(20, 21)...)
	if _, ok := tl.Read(9, 10); ok {
		t.Fatal("the entries before a gap are still covered")
	}
	tl.DropOldest(func(e *entry) bool { return e.Seq < 21 })
	if _, ok := tl.Read(19, 10); ok {
		t.Fatal("a dropped entry is still covered")
	}
	if got, ok := tl.Read(20, 10); !ok || len(got) != 1 || got[0].Seq != 21 {
		t.Fatalf("after DropOldest: %v, %v", got, ok)
	}
	tl.Reset()
	if _, ok := tl.Read(20, 10); ok {
		t.Fatal("Reset kept entries")
	}
}
