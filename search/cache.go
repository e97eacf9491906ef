package search

// ticketEntry is what the feeder remembers of one ticket.
type ticketEntry struct {
	state TicketState
	// complete is true when state is the ticket's as last written to the
	// index and docs lists every document of the ticket; false when the
	// entry was made from a mention before any ticket event (state is then
	// the router's decision, a guess, and older documents may exist).
	complete bool
	docs     []string
}

func (e *ticketEntry) addDoc(id string) {
	for _, d := range e.docs {
		if d == id {
			return
		}
	}
	e.docs = append(e.docs, id)
}

// ticketCache is a bounded map of tickets with two generations: when the
// young one is full it becomes the old one and the previous old one is
// dropped; a hit in the old generation moves the entry back to the young
// one. It keeps between max/2 and max entries, favours recently used
// tickets, and costs one map lookup per hit: enough for the feeder, which
// only needs to avoid index lookups for the tickets that are active now.
// It is not safe for concurrent use.
type ticketCache struct {
	young, old map[int64]*ticketEntry
	half       int
}

func newTicketCache(max int) *ticketCache {
	half := max / 2
	if half < 1 {
		half = 1
	}
	return &ticketCache{young: make(map[int64]*ticketEntry), half: half}
}

func (c *ticketCache) get(id int64) *ticketEntry {
	if e, ok := c.young[id]; ok {
		return e
	}
	if e, ok := c.old[id]; ok {
		delete(c.old, id)
		c.put(id, e)
		return e
	}
	return nil
}

func (c *ticketCache) put(id int64, e *ticketEntry) {
	if len(c.young) >= c.half {
		c.old, c.young = c.young, make(map[int64]*ticketEntry, c.half)
	}
	c.young[id] = e
}

func (c *ticketCache) len() int { return len(c.young) + len(c.old) }

func (c *ticketCache) reset() { c.young, c.old = make(map[int64]*ticketEntry), nil }
