package archive

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigie/vigie/desk"
)

// CompetitorTagPrefix marks a mention about a competitor: a routing rule
// that adds the tag "competitor:zephyr" says the mention talks about the
// competitor Zephyr rather than about the brand.
const CompetitorTagPrefix = "competitor:"

// mentionRow is one mention version, as archived.
type mentionRow struct {
	EventID         int64
	Source, ID      string
	Version         uint32
	CreatedMS       int64
	ReceivedMS      int64
	Lang            string
	Sentiment       float32
	Label           string
	Polarity        int8
	Intent          string
	Queue           string
	Priority        string
	Tags            []string
	Competitor      bool
	AuthorID        string
	AuthorHandle    string
	AuthorFollowers int64
	Influence       uint8
	Dropped         bool
	TicketID        int64
}

// deskRow is one ticket event, as archived. It carries no customer content:
// no text, no author.
type deskRow struct {
	EventID   int64
	TicketID  int64
	Type      string
	Change    desk.Change
	AtMS      int64
	CreatedMS int64
	Queue     string
	Source    string
	// Agent is the actor of an agent action, "" for the customer or the
	// system; Assignee is the ticket's owner after the event.
	Agent    string
	Assignee string
	Priority string
	Status   string
}

// EventCSATRated is the CRM's csat.rated event: a customer's answer to a
// satisfaction survey, published through the desk's log. The archive reads
// it by name (it follows the desk, not the CRM).
const EventCSATRated desk.EventType = "csat.rated"

// csatData is what the archive reads of a csat.rated event. The event also
// names the customer and may hold their comment: neither is archived.
type csatData struct {
	TicketID int64     `json:"ticket_id"`
	SurveyID int64     `json:"survey_id"`
	Queue    string    `json:"queue"`
	Agent    string    `json:"agent"`
	Source   string    `json:"source"`
	Rating   int       `json:"rating"`
	RatedAt  time.Time `json:"rated_at"`
}

// csatRow is one survey answer, as archived: one per ticket (a ticket gets
// one survey), with no customer content.
type csatRow struct {
	EventID  int64
	TicketID int64
	SurveyID int64
	Queue    string
	Agent    string
	Source   string
	Rating   uint8
	RatedMS  int64
}

// humanReply reports whether the event is a reply written by a person, the
// only kind that counts as a response: automatic replies have no actor.
func (r *deskRow) humanReply() bool { return r.Change == desk.ChangeReplied && r.Agent != "" }

// deletion asks to remove a person's content: one post (ID set) or every
// post of an author (ID empty); or, for a retention sweep (BeforeMS set,
// the rest empty), the authors of every post created before BeforeMS.
type deletion struct {
	Source, ID, AuthorID string
	BeforeMS             int64
}

// retention reports whether d is a retention sweep.
func (d *deletion) retention() bool { return d.BeforeMS != 0 }

// rows is a batch of events decoded for writing. Segments keep the order of
// deletions relative to the rows around them.
type rows struct {
	segments []segment
	skipped  []skip
}

// segment is rows to insert, then deletions to apply. A batch is one
// segment unless a mention follows a deletion that names it: deletions are
// deferred to the end of their segment, so that ClickHouse runs one
// mutation per batch rather than one per deletion.
type segment struct {
	mentions []mentionRow
	desk     []deskRow
	csat     []csatRow
	deletes  []deletion
}

// skip is an event the archive could not read; it is counted and passed.
type skip struct {
	Seq    int64
	Reason string
	Err    error
}

// erases reports whether a deletion of s names m.
func (s *segment) erases(m *mentionRow) bool {
	for _, d := range s.deletes {
		if d.retention() {
			if m.CreatedMS < d.BeforeMS {
				return true
			}
			continue
		}
		if d.Source == m.Source && (d.ID == m.ID || (d.ID == "" && d.AuthorID == m.AuthorID)) {
			return true
		}
	}
	return false
}

func (s *segment) empty() bool {
	return len(s.mentions) == 0 && len(s.desk) == 0 && len(s.csat) == 0 && len(s.deletes) == 0
}

// decode turns a batch of events into rows. Events the archive does not
// keep (presence, future types) are passed over; malformed ones are
// reported in skipped, never fatal, so one bad event cannot stall the
// archive forever.
func decode(batch []desk.Event) rows {
	var out rows
	cur := segment{}
	for i := range batch {
		ev := &batch[i]
		switch ev.Type {
		case desk.EventMentionReceived:
			d, err := ev.MentionData() // shared with the other sinks: read only
			if err != nil {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("decode %s event %d: %w", ev.Type, ev.Seq, err)})
				continue
			}
			if d.Mention.Source == "" || d.Mention.ID == "" {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("%s event %d: mention without source or id", ev.Type, ev.Seq)})
				continue
			}
			row := mentionRowOf(ev, d)
			if cur.erases(&row) {
				// A deletion earlier in the batch names this mention: it
				// must apply before the row exists, not after.
				out.segments = append(out.segments, cur)
				cur = segment{}
			}
			cur.mentions = append(cur.mentions, row)
		case desk.EventTicketCreated, desk.EventTicketUpdated:
			d, err := ev.TicketData() // shared with the other sinks: read only
			if err != nil {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("decode %s event %d: %w", ev.Type, ev.Seq, err)})
				continue
			}
			if d.Ticket.ID == 0 {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("%s event %d: ticket without id", ev.Type, ev.Seq)})
				continue
			}
			// Desk rows hold no personal data: deletions never touch them.
			cur.desk = append(cur.desk, deskRowOf(ev, d))
		case EventCSATRated:
			var d csatData
			if err := desk.DecodePayload(ev.Data, &d); err != nil {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("decode %s event %d: %w", ev.Type, ev.Seq, err)})
				continue
			}
			if d.TicketID == 0 && d.Rating == 0 {
				continue // wiped by an erasure before the archive read it
			}
			if d.TicketID == 0 || d.Rating < 1 || d.Rating > 5 {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("%s event %d: needs a ticket id and a rating from 1 to 5", ev.Type, ev.Seq)})
				continue
			}
			rated := d.RatedAt
			if rated.IsZero() {
				rated = ev.At
			}
			// Survey answers hold no personal data: deletions never touch them.
			cur.csat = append(cur.csat, csatRow{EventID: ev.Seq, TicketID: d.TicketID, SurveyID: d.SurveyID, Queue: d.Queue,
				Agent: d.Agent, Source: d.Source, Rating: uint8(d.Rating), RatedMS: ms(rated)})
		case desk.EventMentionDeleted:
			var d desk.DeletedData
			if err := desk.DecodePayload(ev.Data, &d); err != nil {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("decode %s event %d: %w", ev.Type, ev.Seq, err)})
				continue
			}
			if d.Source == "" || (d.ID == "" && d.AuthorID == "") {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("%s event %d: needs a source and an id or author id", ev.Type, ev.Seq)})
				continue
			}
			cur.deletes = append(cur.deletes, deletion{Source: d.Source, ID: d.ID, AuthorID: d.AuthorID})
		case desk.EventRetentionApplied:
			var d desk.RetentionData
			if err := desk.DecodePayload(ev.Data, &d); err != nil {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("decode %s event %d: %w", ev.Type, ev.Seq, err)})
				continue
			}
			if d.Before.IsZero() {
				out.skipped = append(out.skipped, skip{ev.Seq, "malformed", fmt.Errorf("%s event %d: no cutoff", ev.Type, ev.Seq)})
				continue
			}
			// Retention keeps every row and every fact; only the authors of
			// posts created before the cutoff go.
			cur.deletes = append(cur.deletes, deletion{BeforeMS: d.Before.UnixMilli()})
		}
	}
	if !cur.empty() {
		out.segments = append(out.segments, cur)
	}
	return out
}

func mentionRowOf(ev *desk.Event, d *desk.MentionData) mentionRow {
	m, e := &d.Mention, &d.Enrichment
	received := d.ReceivedAt
	if received.IsZero() {
		received = ev.At
	}
	version := d.Version
	if version < 1 {
		version = 1
	}
	tags := append([]string{}, d.Decision.Tags...)
	competitor := false
	for _, t := range tags {
		if strings.HasPrefix(t, CompetitorTagPrefix) {
			competitor = true
		}
	}
	return mentionRow{
		EventID:         ev.Seq,
		Source:          m.Source,
		ID:              m.ID,
		Version:         uint32(version),
		CreatedMS:       ms(m.CreatedAt),
		ReceivedMS:      ms(received),
		Lang:            e.Lang,
		Sentiment:       float32(e.Sentiment),
		Label:           e.Label,
		Polarity:        polarity(e.Label, e.Sentiment),
		Intent:          e.Intent,
		Queue:           d.Decision.Queue,
		Priority:        string(d.Decision.Priority),
		Tags:            tags,
		Competitor:      competitor,
		AuthorID:        m.Author.ID,
		AuthorHandle:    m.Author.Handle,
		AuthorFollowers: m.Author.Followers,
		Influence:       uint8(min(max(e.Influence, 0), 100)),
		Dropped:         d.Decision.Drop,
		TicketID:        d.TicketID,
	}
}

// NeutralBand is how far from 0 a sentiment score must be to count as
// positive or negative when the classifier gave no label: the usual VADER
// threshold.
const NeutralBand = 0.05

// polarity reads a mention's sentiment as +1, 0 or -1: from the
// classifier's label when it gave one, from the score otherwise.
func polarity(label string, score float64) int8 {
	switch strings.ToLower(label) {
	case "positive", "pos":
		return 1
	case "negative", "neg":
		return -1
	case "neutral", "neu", "mixed":
		return 0
	}
	switch {
	case score >= NeutralBand:
		return 1
	case score <= -NeutralBand:
		return -1
	}
	return 0
}

func deskRowOf(ev *desk.Event, d *desk.TicketData) deskRow {
	t := &d.Ticket
	created := t.CreatedAt
	if created.IsZero() {
		created = ev.At
	}
	change := d.Change
	if change == "" && ev.Type == desk.EventTicketCreated {
		change = desk.ChangeCreated
	}
	return deskRow{
		EventID:   ev.Seq,
		TicketID:  t.ID,
		Type:      string(ev.Type),
		Change:    change,
		AtMS:      ms(ev.At),
		CreatedMS: ms(created),
		Queue:     t.Queue,
		Source:    t.Source,
		Agent:     d.Actor,
		Assignee:  t.Assignee,
		Priority:  string(t.Priority),
		Status:    string(t.Status),
	}
}
