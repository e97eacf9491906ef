package crm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// IdentityRef names an identity by its ids only.
type IdentityRef struct {
	Source   string `json:"source"`
	AuthorID string `json:"author_id"`
}

// ExportRecord is one person in an export. Without consent it holds ids
// only (profile, CRM, network accounts); the personal fields — handles,
// names, city, interests, influence — are there only when the person
// consented.
type ExportRecord struct {
	ProfileID  int64         `json:"profile_id"`
	CRMID      string        `json:"crm_id,omitempty"`
	Identities []IdentityRef `json:"identities"`
	Consent    bool          `json:"consent"`
	Handles    []string      `json:"handles,omitempty"`
	Names      []string      `json:"names,omitempty"`
	City       string        `json:"city,omitempty"`
	Interests  []string      `json:"interests,omitempty"`
	Influence  *int          `json:"influence,omitempty"`
}

// exportRecord is the one place that decides what of a profile leaves
// Vigie.
func exportRecord(p *Profile) ExportRecord {
	r := ExportRecord{ProfileID: p.ID, CRMID: p.CRMID, Identities: []IdentityRef{}, Consent: p.Consent.Granted}
	for _, i := range p.Identities {
		r.Identities = append(r.Identities, IdentityRef{Source: i.Source, AuthorID: i.AuthorID})
	}
	if !p.Consent.Granted {
		return r
	}
	for _, i := range p.Identities {
		if i.Handle != "" {
			r.Handles = append(r.Handles, i.Handle)
		}
		if i.Name != "" {
			r.Names = append(r.Names, i.Name)
		}
	}
	r.City, r.Interests = p.City, p.Interests
	inf := p.Influence
	r.Influence = &inf
	return r
}

// csvHeader is the first line of a CSV export.
var csvHeader = []string{"profile_id", "crm_id", "identities", "consent", "handles", "names", "city", "interests", "influence"}

// safeCell keeps a spreadsheet from reading a cell as a formula (CSV
// injection): a leading =, +, -, @, tab or carriage return gets a quote.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ExportCSV writes the members of segment id as CSV (csvHeader's
// columns; several values in a cell are separated by spaces, identities
// as source/author_id).
func (c *CRM) ExportCSV(ctx context.Context, id int64, w io.Writer) error {
	s, err := c.Segment(ctx, id)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write export: %w", err)
	}
	err = c.eachMember(ctx, s.Filter, func(p *Profile) error {
		r := exportRecord(p)
		ids := make([]string, len(r.Identities))
		for i, ref := range r.Identities {
			ids[i] = ref.Source + "/" + ref.AuthorID
		}
		inf := ""
		if r.Influence != nil {
			inf = strconv.Itoa(*r.Influence)
		}
		row := []string{strconv.FormatInt(r.ProfileID, 10), r.CRMID, strings.Join(ids, " "), strconv.FormatBool(r.Consent),
			strings.Join(r.Handles, " "), strings.Join(r.Names, "; "), r.City, strings.Join(r.Interests, "; "), inf}
		for i := range row {
			row[i] = safeCell(row[i])
		}
		return cw.Write(row)
	})
	if err != nil {
		c.metrics.exports.WithLabelValues("csv", "failed").Inc()
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		c.metrics.exports.WithLabelValues("csv", "failed").Inc()
		return fmt.Errorf("write export: %w", err)
	}
	c.metrics.exports.WithLabelValues("csv", "ok").Inc()
	return nil
}

// The headers of a signed export.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, keyed with
	// ExportConfig.Secret, of the timestamp, a ".", and the raw body.
	HeaderSignature = "X-Vigie-Signature"
	// HeaderTimestamp is the signing time in Unix seconds, signed with the
	// body so that a captured export cannot be replayed later.
	HeaderTimestamp = "X-Vigie-Timestamp"
	// HeaderEvent says what the body is: "segment.exported".
	HeaderEvent = "X-Vigie-Event"
)

// Sign returns the X-Vigie-Signature of body signed at ts with secret.
func Sign(secret []byte, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Export is the body of a segment export to the CRM's webhook.
type Export struct {
	SegmentID  int64          `json:"segment_id"`
	Segment    string         `json:"segment"`
	ExportedAt time.Time      `json:"exported_at"`
	Count      int            `json:"count"`
	Members    []ExportRecord `json:"members"`
}

// ExportResult says how an export went.
type ExportResult struct {
	SegmentID int64 `json:"segment_id"`
	Count     int   `json:"count"`
	// Status is the webhook's HTTP status.
	Status int `json:"status"`
}

// ExportWebhook sends the members of segment id to the CRM's webhook,
// signed, in one request. A non-2xx answer is ErrExport.
func (c *CRM) ExportWebhook(ctx context.Context, id int64) (ExportResult, error) {
	if c.cfg.Export.URL == "" {
		return ExportResult{}, fmt.Errorf("%w: no CRM webhook is configured", ErrConflict)
	}
	s, err := c.Segment(ctx, id)
	if err != nil {
		return ExportResult{}, err
	}
	now := c.cfg.Now().UTC()
	ex := Export{SegmentID: s.ID, Segment: s.Name, ExportedAt: now, Members: []ExportRecord{}}
	if err := c.eachMember(ctx, s.Filter, func(p *Profile) error {
		ex.Members = append(ex.Members, exportRecord(p))
		return nil
	}); err != nil {
		return ExportResult{}, err
	}
	ex.Count = len(ex.Members)
	body, err := json.Marshal(&ex)
	if err != nil {
		return ExportResult{}, fmt.Errorf("encode export: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Export.URL, bytes.NewReader(body))
	if err != nil {
		return ExportResult{}, fmt.Errorf("export request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderEvent, "segment.exported")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign([]byte(c.cfg.Export.Secret), now, body))
	resp, err := c.client.Do(req)
	if err != nil {
		c.metrics.exports.WithLabelValues("webhook", "failed").Inc()
		return ExportResult{}, fmt.Errorf("%w: %w", ErrExport, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res := ExportResult{SegmentID: s.ID, Count: ex.Count, Status: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		c.metrics.exports.WithLabelValues("webhook", "failed").Inc()
		return res, fmt.Errorf("%w: the webhook answered %d", ErrExport, resp.StatusCode)
	}
	c.metrics.exports.WithLabelValues("webhook", "ok").Inc()
	c.log.Info("segment_exported", "segment_id", s.ID, "count", ex.Count)
	return res, nil
}
