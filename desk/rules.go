package desk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/router"
)

// RuleVersion is one saved version of the routing rules.
type RuleVersion struct {
	Version   int       `json:"version"`
	YAML      string    `json:"yaml,omitempty"`
	Author    string    `json:"author"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
}

// ErrNoRules is returned when no rules were ever saved.
var ErrNoRules = errors.New("no rules saved")

// EventRulesChanged is emitted when a new rules version is saved (an
// audited change).
const EventRulesChanged EventType = "rules.changed"

// TopicAdmin carries administrative changes.
const TopicAdmin Topic = "admin"

// LatestRules returns the rules version in force.
func (d *Desk) LatestRules(ctx context.Context) (RuleVersion, error) {
	return d.ruleVersion(ctx, "SELECT version, yaml, author, comment, created_at FROM rule_versions ORDER BY version DESC LIMIT 1")
}

// RulesVersion returns one saved version.
func (d *Desk) RulesVersion(ctx context.Context, version int) (RuleVersion, error) {
	rv, err := d.ruleVersion(ctx, "SELECT version, yaml, author, comment, created_at FROM rule_versions WHERE version=?", version)
	if errors.Is(err, ErrNoRules) {
		return RuleVersion{}, fmt.Errorf("%w: rules version %d does not exist", ErrNotFound, version)
	}
	return rv, err
}

func (d *Desk) ruleVersion(ctx context.Context, q string, args ...any) (RuleVersion, error) {
	var rv RuleVersion
	var at int64
	err := d.db.R.QueryRowContext(ctx, q, args...).Scan(&rv.Version, &rv.YAML, &rv.Author, &rv.Comment, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return RuleVersion{}, ErrNoRules
	}
	if err != nil {
		return RuleVersion{}, fmt.Errorf("read rules: %w", err)
	}
	rv.CreatedAt = time.Unix(0, at).UTC()
	return rv, nil
}

// RulesHistory lists saved versions, newest first, without their text.
func (d *Desk) RulesHistory(ctx context.Context, limit int) ([]RuleVersion, error) {
	rows, err := d.db.R.QueryContext(ctx, "SELECT version, author, comment, created_at FROM rule_versions ORDER BY version DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("list rules versions: %w", err)
	}
	defer rows.Close()
	out := []RuleVersion{}
	for rows.Next() {
		var rv RuleVersion
		var at int64
		if err := rows.Scan(&rv.Version, &rv.Author, &rv.Comment, &at); err != nil {
			return nil, fmt.Errorf("list rules versions: %w", err)
		}
		rv.CreatedAt = time.Unix(0, at).UTC()
		out = append(out, rv)
	}
	return out, rows.Err()
}

// SaveRules validates a rules file and saves it as the next version. The
// change is an event in the log (who, when, which version), so it is
// audited like every other change.
func (d *Desk) SaveRules(ctx context.Context, yaml, author, comment string) (RuleVersion, *router.RuleSet, error) {
	rs, err := router.ParseRules([]byte(yaml))
	if err != nil {
		return RuleVersion{}, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(comment) > 1000 {
		return RuleVersion{}, nil, fmt.Errorf("%w: comment longer than 1000 bytes", ErrInvalid)
	}
	var rv RuleVersion
	_, err = d.tx(ctx, func(tx *sqlite.Tx, ev *eventBuf) error {
		now := time.Now().UTC()
		res, err := tx.ExecContext(ctx, "INSERT INTO rule_versions(yaml, author, comment, created_at) VALUES(?,?,?,?)", yaml, author, comment, now.UnixNano())
		if err != nil {
			return fmt.Errorf("save rules: %w", err)
		}
		v, _ := res.LastInsertId()
		rv = RuleVersion{Version: int(v), Author: author, Comment: comment, CreatedAt: now}
		return ev.add(EventRulesChanged, TopicAdmin, "", 0, "", "", now, time.Time{}, rv)
	})
	if err != nil {
		return RuleVersion{}, nil, err
	}
	rv.YAML = yaml
	return rv, rs, nil
}

// DryRun is what a draft rule set would change over past mentions.
type DryRun struct {
	Evaluated int                  `json:"evaluated"`
	Changed   int                  `json:"changed"`
	Queues    map[string]*Movement `json:"queues"`
	Dropped   Movement             `json:"dropped"`
	Examples  []DryRunExample      `json:"examples"`
}

// Movement counts mentions before and after.
type Movement struct {
	Before int `json:"before"`
	After  int `json:"after"`
}

// DryRunExample is one mention whose decision would change.
type DryRunExample struct {
	Source string          `json:"source"`
	ID     string          `json:"id"`
	Text   string          `json:"text"`
	Before router.Decision `json:"before"`
	After  router.Decision `json:"after"`
}

// DryRunRange selects the mentions a dry run reads: the last Last ones
// (default 500, at most 50,000), or those received between From and To.
type DryRunRange struct {
	Last     int
	From, To time.Time
}

// The dry runs' reads of past mentions; each searches events_mentions
// (TestQueriesSearchIndexes).
const (
	dryRunLast  = "SELECT data FROM events WHERE type='mention.received' ORDER BY seq DESC LIMIT ?"
	dryRunRange = "SELECT data FROM events WHERE type='mention.received' AND at >= ? AND at < ? ORDER BY seq DESC LIMIT 50000"
)

// DryRunRules evaluates draft and current over past mentions, with the
// enrichment they had, and reports what would change.
func (d *Desk) DryRunRules(ctx context.Context, draft, current *router.RuleSet, r DryRunRange) (DryRun, error) {
	if r.Last == 0 {
		r.Last = 500
	}
	if r.Last < 1 || r.Last > 50_000 {
		return DryRun{}, fmt.Errorf("%w: last must be between 1 and 50000", ErrInvalid)
	}
	q := dryRunLast
	args := []any{r.Last}
	if !r.From.IsZero() || !r.To.IsZero() {
		if r.To.IsZero() {
			r.To = time.Now()
		}
		if !r.From.Before(r.To) {
			return DryRun{}, fmt.Errorf("%w: from must be before to", ErrInvalid)
		}
		q = dryRunRange
		args = []any{r.From.UnixNano(), r.To.UnixNano()}
	}
	rows, err := d.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return DryRun{}, fmt.Errorf("dry run: read mentions: %w", err)
	}
	defer rows.Close()
	out := DryRun{Queues: map[string]*Movement{}, Examples: []DryRunExample{}}
	move := func(q string) *Movement {
		m := out.Queues[q]
		if m == nil {
			m = &Movement{}
			out.Queues[q] = m
		}
		return m
	}
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return DryRun{}, fmt.Errorf("dry run: %w", err)
		}
		var md MentionData
		if err := json.Unmarshal(raw, &md); err != nil || md.Mention.Text == redacted || md.Version > 1 {
			continue // unreadable, erased, or an edit of a mention counted already
		}
		before := current.Evaluate(&md.Mention, &md.Enrichment)
		after := draft.Evaluate(&md.Mention, &md.Enrichment)
		out.Evaluated++
		if before.Drop {
			out.Dropped.Before++
		} else {
			move(before.Queue).Before++
		}
		if after.Drop {
			out.Dropped.After++
		} else {
			move(after.Queue).After++
		}
		if before.Queue != after.Queue || before.Drop != after.Drop || before.Priority != after.Priority {
			out.Changed++
			if len(out.Examples) < 20 {
				text := md.Mention.Text
				if r := []rune(text); len(r) > 280 {
					text = string(r[:280]) + "…"
				}
				out.Examples = append(out.Examples, DryRunExample{Source: md.Mention.Source, ID: md.Mention.ID, Text: text, Before: before, After: after})
			}
		}
	}
	return out, rows.Err()
}
