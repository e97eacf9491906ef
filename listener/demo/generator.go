package demo

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
)

// Kind says how a generated mention relates to the ones before it.
type Kind string

// The kinds of generated mention.
const (
	// KindNew starts a conversation.
	KindNew Kind = "new"
	// KindFollowUp continues one: same author, same network, reply_to set to
	// the author's previous post or to a reply by Velora, conversation set
	// to the root post.
	KindFollowUp Kind = "follow_up"
	// KindEdit is an earlier post with a new text: same source, id,
	// created_at, author and thread fields.
	KindEdit Kind = "edit"
)

// Label is the ground truth behind a generated mention.
type Label struct {
	Intent Intent
	// Topic is what the text is about (delay, refund, cafe, ...).
	Topic      string
	Kind       Kind
	Lang       string // the language the text is written in
	Influencer bool   // the author has 10k followers or more
	Bot        bool   // the author is a spam account
	Burst      bool   // generated during a burst
}

// Labeled is a mention with its ground truth.
type Labeled struct {
	Mention listener.Mention
	Label   Label
}

// thread is a recent conversation its author may come back to, or a recent
// post its author may edit.
type thread struct {
	author  *author
	root    string
	last    string
	lastAt  time.Time
	replies int
	label   Label
	mention listener.Mention // the post as first sent, for edits
}

const (
	// openThreads bounds the conversations follow-ups can continue: a few
	// minutes of traffic at demo rates, so follow-ups come soon after.
	openThreads = 512
	// editableThreads bounds the posts an edit can revise.
	editableThreads = 256
	// checkInUsers is how many people of the pool share their check-ins.
	checkInUsers = 300
)

// Generator produces the demo stream. Build it with New.
type Generator struct {
	cfg     Config
	logger  *slog.Logger
	metrics *metrics

	mu       sync.Mutex
	r        *rand.Rand // content
	pace     *rand.Rand // inter-arrival times
	cr       *rand.Rand // check-ins
	people   []*author
	bots     []*author
	zipf     *rand.Zipf
	rank     []int // Zipf rank → index in people
	mix      weighted[Intent]
	seq      uint64
	clock    time.Time // virtual clock of Next
	cclock   time.Time // virtual clock of NextCheckIn
	open     []*thread
	editable []*thread
	ciUsers  []listener.CheckInUser
	ciSeq    uint64
}

var _ listener.Source = (*Generator)(nil)

// New validates cfg and builds a generator with its author pool. logger and
// reg may be nil (no logs, no metrics).
func New(cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	seed := uint64(cfg.Seed)
	g := &Generator{
		cfg:     cfg,
		logger:  logger.With("component", "demo"),
		metrics: newMetrics(reg),
		r:       rand.New(rand.NewPCG(seed, 0x5eed0001)),
		pace:    rand.New(rand.NewPCG(seed, 0x5eed0002)),
		cr:      rand.New(rand.NewPCG(seed, 0x5eed0003)),
		mix:     newWeighted(cfg.Mix),
	}
	all := newAuthors(g.r, cfg.Authors, newWeighted(cfg.Langs), newWeighted(cfg.Sources), cfg.InfluencerShare)
	g.people, g.bots = all[:cfg.Authors], all[cfg.Authors:]
	// P(rank k) ∝ (20+k)^-1.2: the most active person writes about 1.5% of
	// the posts, most people a handful, as on real networks.
	g.zipf = rand.NewZipf(g.r, 1.2, 20, uint64(cfg.Authors-1))
	g.rank = g.r.Perm(cfg.Authors)
	start := cfg.Now().UTC().Truncate(time.Millisecond)
	g.clock, g.cclock = start, start
	for i := range min(checkInUsers, cfg.Authors) {
		a := g.people[g.rank[i]]
		first, _, _ := strings.Cut(asciiFold(a.Name), " ")
		g.ciUsers = append(g.ciUsers, listener.CheckInUser{
			ID:     strconv.Itoa(30_000_000 + 7919*g.rank[i]),
			Handle: strings.ToLower(first) + strconv.Itoa(g.rank[i]),
		})
	}
	return g, nil
}

// Name returns "demo".
func (g *Generator) Name() string { return "demo" }

// CheckInUsers returns the people whose check-ins the generator emits
// (source "foursquare"), so that a demo can record their consent to offers.
func (g *Generator) CheckInUsers() []listener.CheckInUser {
	return append([]listener.CheckInUser(nil), g.ciUsers...)
}

// Next returns the next mention. Its created_at follows a virtual clock that
// starts at Config.Now() and advances by Poisson-like steps of mean 1/Rate.
func (g *Generator) Next() listener.Mention { return g.NextLabeled().Mention }

// NextLabeled is Next with the ground truth behind the mention.
func (g *Generator) NextLabeled() Labeled {
	g.mu.Lock()
	defer g.mu.Unlock()
	rate := g.cfg.Rate
	if rate <= 0 {
		rate = 1
	}
	g.clock = g.clock.Add(expStep(g.pace, rate))
	return g.mention(g.clock.Truncate(time.Millisecond), false)
}

// NextCheckIn returns the next check-in near a Velora station, on its own
// virtual clock (mean step 1/CheckInRate, or 10 s when that is zero).
func (g *Generator) NextCheckIn() listener.CheckIn {
	g.mu.Lock()
	defer g.mu.Unlock()
	rate := g.cfg.CheckInRate
	if rate <= 0 {
		rate = 0.1
	}
	g.cclock = g.cclock.Add(expStep(g.pace, rate))
	return g.checkIn(g.cclock.Truncate(time.Millisecond))
}

// expStep draws an exponential inter-arrival time of mean 1/rate.
func expStep(r *rand.Rand, rate float64) time.Duration {
	return time.Duration(r.ExpFloat64() / rate * float64(time.Second))
}

// mention generates one mention at t. g.mu is held.
func (g *Generator) mention(t time.Time, burst bool) Labeled {
	r := g.r
	u := r.Float64()
	var (
		l  Labeled
		ok bool
	)
	switch {
	case u < g.cfg.EditShare && len(g.editable) > 0:
		l, ok = g.edit(), true
	case u < g.cfg.EditShare+g.cfg.FollowUpShare && len(g.open) > 0:
		l, ok = g.followUp(t)
	}
	if !ok {
		l = g.newPost(t, burst)
	}
	l.Label.Burst = burst
	g.metrics.mentions.WithLabelValues(string(l.Label.Intent), string(l.Label.Kind)).Inc()
	return l
}

func (g *Generator) nextSeq() uint64 {
	g.seq++
	return g.seq
}

// newPost starts a conversation.
func (g *Generator) newPost(t time.Time, burst bool) Labeled {
	r := g.r
	intent := g.mix.pick(r.Float64())
	if burst && r.IntN(10) < 7 {
		intent = Complaint
	}
	var a *author
	if intent == Spam {
		a = g.bots[r.IntN(len(g.bots))]
	} else {
		a = g.people[g.rank[g.zipf.Uint64()]]
	}
	tpls := templates[a.Lang][intent]
	tp := tpls[r.IntN(len(tpls))]
	if burst && intent == Complaint && r.IntN(2) == 0 {
		// An incident: delays and cancellations dominate.
		for range 8 {
			if tp.topic == "delay" || tp.topic == "cancellation" {
				break
			}
			tp = tpls[r.IntN(len(tpls))]
		}
	}
	c := newTextCtx(r, a.Lang, a.Source)
	text := c.roughen(c.expand(tp.text), intent == Complaint || intent == Churn || intent == Crisis)
	net := networks[a.Source]
	m := listener.Mention{
		Source:    a.Source,
		ID:        postID(a, t, g.nextSeq()),
		CreatedAt: t,
		Author:    a.Author,
		Text:      text,
		Lang:      langHint(r, a),
	}
	m.URL = postURL(a, m.ID)
	if net.conversationOnRoot {
		m.Conversation = m.ID
	}
	if net.geo && r.Float64() < g.cfg.GeoShare {
		m.Geo = near(r, c.station, 0.002)
	}
	m.Engagement = engagement(r, a)
	a.Posts++
	l := Labeled{Mention: m, Label: Label{Intent: intent, Topic: tp.topic, Kind: KindNew, Lang: a.Lang, Influencer: a.Influencer, Bot: a.Bot}}
	th := &thread{author: a, root: m.ID, last: m.ID, lastAt: t, label: l.Label, mention: m}
	switch intent {
	case Complaint, Question, Purchase, Churn, Crisis:
		g.open = pushRing(g.open, th, openThreads)
	}
	if net.editKeepsID && !a.Bot {
		g.editable = pushRing(g.editable, th, editableThreads)
	}
	return l
}

// followUp continues a recent conversation. It declines (false) when the
// conversation's last post is not older than t: time stamps never go back.
func (g *Generator) followUp(t time.Time) (Labeled, bool) {
	r := g.r
	// Recent conversations are the likeliest to go on: on average the
	// author comes back some 200 mentions later.
	i := len(g.open) - 1 - min(int(r.ExpFloat64()*200), len(g.open)-1)
	th := g.open[i]
	a := th.author
	if !t.After(th.lastAt) {
		return Labeled{}, false
	}
	fu := followUps[a.Lang]
	replyTo, set := th.last, fu.self
	if r.IntN(2) == 0 {
		// The author answers a reply Velora posted in between.
		replyTo, set = brandReplyID(a.Source, th.lastAt.Add(t.Sub(th.lastAt)/2), g.nextSeq()), fu.brand
	}
	c := newTextCtx(r, a.Lang, a.Source)
	text := c.roughen(c.expand(set[r.IntN(len(set))]), th.label.Intent == Complaint)
	if replyTo != th.last && (a.Source == "mastodon" || a.Source == "x") && r.IntN(5) > 0 {
		// Both networks put the account answered at the head of a reply.
		text = "@velora " + text
	}
	m := listener.Mention{
		Source:       a.Source,
		ID:           postID(a, t, g.nextSeq()),
		CreatedAt:    t,
		Author:       a.Author,
		Text:         text,
		Lang:         langHint(r, a),
		ReplyTo:      replyTo,
		Conversation: th.root,
		Engagement:   engagement(r, a),
	}
	m.URL = postURL(a, m.ID)
	a.Posts++
	th.last, th.lastAt = m.ID, t
	th.replies++
	if th.replies >= 3 {
		g.open = append(g.open[:i], g.open[i+1:]...)
	}
	lb := th.label
	lb.Kind = KindFollowUp
	return Labeled{Mention: m, Label: lb}, true
}

// edit revises a recent post: same key, new text.
func (g *Generator) edit() Labeled {
	r := g.r
	i := r.IntN(len(g.editable))
	th := g.editable[i]
	g.editable = append(g.editable[:i], g.editable[i+1:]...)
	m := th.mention
	c := newTextCtx(r, th.author.Lang, m.Source)
	notes := editNotes[th.author.Lang]
	m.Text = strings.TrimRight(m.Text+c.expand(notes[r.IntN(len(notes))]), " ")
	if len(m.Text) > listener.MaxTextBytes {
		m.Text = m.Text[:listener.MaxTextBytes]
	}
	lb := th.label
	lb.Kind = KindEdit
	return Labeled{Mention: m, Label: lb}
}

// pushRing appends th, dropping the oldest half when s is full: the cost of
// the move is spread over max/2 pushes.
func pushRing(s []*thread, th *thread, max int) []*thread {
	if len(s) >= max {
		n := copy(s, s[len(s)-max/2:])
		clear(s[n:])
		s = s[:n]
	}
	return append(s, th)
}

// langHint is the language the network claims: Mastodon, Bluesky and X tag
// posts, sometimes wrongly; Meta does not.
func langHint(r *rand.Rand, a *author) string {
	switch a.Source {
	case "facebook", "instagram":
		return ""
	}
	switch p := r.IntN(100); {
	case p < 8:
		return ""
	case p < 12:
		return "en" // a default left unchanged
	}
	return a.Lang
}

// near returns a point around s, spread by sd degrees of latitude (0.002° is
// about 220 m).
func near(r *rand.Rand, s *station, sd float64) *listener.Geo {
	lat := s.lat + r.NormFloat64()*sd
	lon := s.lon + r.NormFloat64()*sd/math.Cos(s.lat*math.Pi/180)
	return &listener.Geo{Lat: round6(lat), Lon: round6(lon)}
}

// metresPerDegree is the length of one degree of latitude.
const metresPerDegree = 111_320

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// engagement draws early reactions, growing with the author's audience.
func engagement(r *rand.Rand, a *author) *listener.Engagement {
	if a.Bot || r.IntN(3) == 0 {
		return nil
	}
	reach := float64(a.Followers)
	likes := int64(reach * 0.002 * r.ExpFloat64())
	e := &listener.Engagement{
		Likes:   likes,
		Reposts: int64(float64(likes) * 0.2 * r.Float64()),
		Replies: int64(float64(likes) * 0.1 * r.Float64()),
	}
	if *e == (listener.Engagement{}) {
		return nil
	}
	return e
}

// checkIn generates one check-in at t. g.mu is held.
func (g *Generator) checkIn(t time.Time) listener.CheckIn {
	r := g.cr
	u := g.ciUsers[r.IntN(len(g.ciUsers))]
	s := &stations[r.IntN(len(stations))]
	g.ciSeq++
	c := listener.CheckIn{
		Source:    "foursquare",
		ID:        fmt.Sprintf("%x%08x", t.Unix(), g.ciSeq),
		CreatedAt: t,
		User:      u,
	}
	if r.IntN(10) == 0 {
		// Elsewhere in town, one to three kilometres away: no offer due.
		d, bearing := 1000+2000*r.Float64(), 2*math.Pi*r.Float64()
		c.Lat = round6(s.lat + d*math.Cos(bearing)/metresPerDegree)
		c.Lon = round6(s.lon + d*math.Sin(bearing)/(metresPerDegree*math.Cos(s.lat*math.Pi/180)))
		return c
	}
	p := near(r, s, 0.0007) // within about 100 m of the station
	c.Lat, c.Lon = p.Lat, p.Lon
	k := venueKinds[r.IntN(len(venueKinds))]
	name := k.name + " " + s.names["fr"][0]
	if k.name == "" {
		name = s.names["fr"][0]
	}
	c.Venue = &listener.Venue{ID: s.id + "-" + k.id, Name: name}
	return c
}
