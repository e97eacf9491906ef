package desk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Macro is a canned reply, optionally with actions: tags to add and
// resolving the ticket, all in one change. Its text may use variables:
// {{author.name}}, {{author.handle}}, {{ticket.id}}, {{agent}}, {{queue}}.
type Macro struct {
	Name      string    `json:"name"`
	Title     string    `json:"title"`
	Queue     string    `json:"queue,omitempty"` // shown for this queue only, when set
	Lang      string    `json:"lang,omitempty"`
	Text      string    `json:"text"`
	Tags      []string  `json:"tags,omitempty"`
	Resolve   bool      `json:"resolve,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

var macroVars = regexp.MustCompile(`\{\{\s*([a-z.]+)\s*\}\}`)

var knownVars = map[string]bool{"author.name": true, "author.handle": true, "ticket.id": true, "agent": true, "queue": true}

func (m *Macro) validate() error {
	switch {
	case !namePattern.MatchString(m.Name):
		return fmt.Errorf("%w: name: 1-64 letters, digits, '.', '_' or '-'", ErrInvalid)
	case len(m.Title) > 200:
		return fmt.Errorf("%w: title: longer than 200 bytes", ErrInvalid)
	case m.Lang != "" && len(m.Lang) != 2:
		return fmt.Errorf("%w: lang: an ISO 639-1 code", ErrInvalid)
	}
	if err := checkText(m.Text); err != nil {
		return err
	}
	for _, v := range macroVars.FindAllStringSubmatch(m.Text, -1) {
		if !knownVars[v[1]] {
			return fmt.Errorf("%w: text: unknown variable {{%s}} (want author.name, author.handle, ticket.id, agent, queue)", ErrInvalid, v[1])
		}
	}
	for _, t := range m.Tags {
		if !namePattern.MatchString(t) {
			return fmt.Errorf("%w: tag %q: letters, digits, '.', '_' or '-'", ErrInvalid, t)
		}
	}
	return nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// Render fills the macro's variables for a ticket and an agent.
func (m *Macro) Render(t *Ticket, agent string) string {
	name := t.Author.Name
	if name == "" {
		name = strings.TrimPrefix(t.Author.Handle, "@")
	}
	handle := t.Author.Handle
	return macroVars.ReplaceAllStringFunc(m.Text, func(s string) string {
		switch macroVars.FindStringSubmatch(s)[1] {
		case "author.name":
			return name
		case "author.handle":
			return handle
		case "ticket.id":
			return strconv.FormatInt(t.ID, 10)
		case "agent":
			return agent
		case "queue":
			return t.Queue
		}
		return s
	})
}

// SaveMacro creates or replaces a macro.
func (d *Desk) SaveMacro(ctx context.Context, m Macro) (Macro, error) {
	if err := m.validate(); err != nil {
		return Macro{}, err
	}
	m.CreatedAt = time.Now().UTC()
	tags, _ := json.Marshal(m.Tags)
	_, err := d.db.Exec(ctx, `INSERT INTO macros(name, title, queue, lang, text, tags, resolve, created_by, created_at) VALUES(?,?,?,?,?,?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET title=excluded.title, queue=excluded.queue, lang=excluded.lang, text=excluded.text, tags=excluded.tags, resolve=excluded.resolve, created_by=excluded.created_by, created_at=excluded.created_at`,
		m.Name, m.Title, m.Queue, m.Lang, m.Text, tags, m.Resolve, m.CreatedBy, m.CreatedAt.UnixNano())
	if err != nil {
		return Macro{}, fmt.Errorf("save macro: %w", err)
	}
	return m, nil
}

// DeleteMacro removes a macro.
func (d *Desk) DeleteMacro(ctx context.Context, name string) error {
	res, err := d.db.Exec(ctx, "DELETE FROM macros WHERE name=?", name)
	if err != nil {
		return fmt.Errorf("delete macro: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: macro %q", ErrNotFound, name)
	}
	return nil
}

// Macros lists the macros, for one queue (and those for every queue) when
// queue is set.
func (d *Desk) Macros(ctx context.Context, queue string) ([]Macro, error) {
	rows, err := d.db.R.QueryContext(ctx, "SELECT name, title, queue, lang, text, tags, resolve, created_by, created_at FROM macros WHERE ?='' OR queue='' OR queue=? ORDER BY name", queue, queue)
	if err != nil {
		return nil, fmt.Errorf("list macros: %w", err)
	}
	defer rows.Close()
	out := []Macro{}
	for rows.Next() {
		m, err := scanMacro(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Macro returns one macro.
func (d *Desk) Macro(ctx context.Context, name string) (Macro, error) {
	m, err := scanMacro(d.db.R.QueryRowContext(ctx, "SELECT name, title, queue, lang, text, tags, resolve, created_by, created_at FROM macros WHERE name=?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return Macro{}, fmt.Errorf("%w: macro %q", ErrNotFound, name)
	}
	return m, err
}

func scanMacro(s scanner) (Macro, error) {
	var m Macro
	var tags []byte
	var at int64
	if err := s.Scan(&m.Name, &m.Title, &m.Queue, &m.Lang, &m.Text, &tags, &m.Resolve, &m.CreatedBy, &at); err != nil {
		return Macro{}, err
	}
	json.Unmarshal(tags, &m.Tags)
	m.CreatedAt = time.Unix(0, at).UTC()
	return m, nil
}

// ApplyMacro replies with a macro's rendered text and applies its actions.
func (d *Desk) ApplyMacro(ctx context.Context, id int64, actor, name string, confirm bool) (Ticket, Message, error) {
	m, err := d.Macro(ctx, name)
	if err != nil {
		return Ticket{}, Message{}, err
	}
	t, err := d.ticket(ctx, d.db.R, id)
	if err != nil {
		return Ticket{}, Message{}, err
	}
	return d.ReplyWith(ctx, id, actor, m.Render(&t, actor), ReplyOptions{Confirm: confirm, Tags: m.Tags, Resolve: m.Resolve})
}
