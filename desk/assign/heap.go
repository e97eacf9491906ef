package assign

// theap is an indexed binary heap of tickets: by age in a waiting queue
// (byAge), or by escalation deadline (byDeadline). Each ticket records its
// position in each kind of heap, so that it can leave from anywhere in
// O(log n).
type theap struct {
	kind  int
	items []*ticket
}

const (
	byAge      = 0
	byDeadline = 1
)

func (h *theap) less(a, b *ticket) bool {
	if h.kind == byAge {
		if !a.opened.Equal(b.opened) {
			return a.opened.Before(b.opened)
		}
		return a.id < b.id
	}
	if !a.deadline.Equal(b.deadline) {
		return a.deadline.Before(b.deadline)
	}
	return a.id < b.id
}

func (h *theap) len() int { return len(h.items) }

func (h *theap) top() *ticket {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

func (h *theap) push(t *ticket) {
	t.pos[h.kind] = len(h.items)
	h.items = append(h.items, t)
	h.up(len(h.items) - 1)
}

// remove takes t out; t must be in h.
func (h *theap) remove(t *ticket) {
	i := t.pos[h.kind]
	last := len(h.items) - 1
	if i != last {
		h.swap(i, last)
	}
	h.items[last] = nil
	h.items = h.items[:last]
	t.pos[h.kind] = -1
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h *theap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].pos[h.kind] = i
	h.items[j].pos[h.kind] = j
}

func (h *theap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.items[i], h.items[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *theap) down(i int) bool {
	start := i
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(h.items[r], h.items[l]) {
			m = r
		}
		if !h.less(h.items[m], h.items[i]) {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > start
}
