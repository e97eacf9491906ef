package crm

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigie/vigie/internal/sqlite"
)

// LineError is a line of an import that was not taken, and why.
type LineError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// ImportResult says what an import did.
type ImportResult struct {
	// Linked counts lines that set a CRM id, Unchanged lines that were
	// already so.
	Linked    int         `json:"linked"`
	Unchanged int         `json:"unchanged"`
	Errors    []LineError `json:"errors"`
}

// MaxImportLines bounds one import.
const MaxImportLines = 100_000

// Import links identities to CRM customer ids from CSV with the header
// "source,author_id,crm_id". Each line is taken or refused on its own
// (Errors names refused lines, counted from 1 with the header); an
// identity not seen yet is created (alone in a new profile) so that a
// brand can import its customers before they post. A CRM id already on
// another profile, or a profile with another CRM id, is refused: merging
// is a person's decision (Link).
func (c *CRM) Import(ctx context.Context, r io.Reader) (ImportResult, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return ImportResult{}, fmt.Errorf("%w: csv: a header line source,author_id,crm_id is required: %w", ErrInvalid, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a spreadsheet's byte order mark
	}
	if strings.Join(header, ",") != "source,author_id,crm_id" {
		return ImportResult{}, fmt.Errorf("%w: csv: header %q, want source,author_id,crm_id", ErrInvalid, strings.Join(header, ","))
	}
	res := ImportResult{Errors: []LineError{}}
	err = c.write(ctx, func(tx *sqlite.Tx) error {
		now := c.cfg.Now().UnixNano()
		for n := 2; ; n++ {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if n > MaxImportLines+1 {
				return fmt.Errorf("%w: csv: more than %d lines", ErrInvalid, MaxImportLines)
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					res.Errors = append(res.Errors, LineError{Line: n, Error: pe.Err.Error()})
					continue
				}
				return fmt.Errorf("%w: csv: %w", ErrInvalid, err)
			}
			lineErr := func(err error) { res.Errors = append(res.Errors, LineError{Line: n, Error: err.Error()}) }
			if len(rec) != 3 {
				lineErr(fmt.Errorf("%d fields, want 3", len(rec)))
				continue
			}
			source, authorID, crmID := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
			if err := checkIdentityRef(source, authorID); err != nil {
				lineErr(err)
				continue
			}
			if crmID == "" {
				lineErr(errors.New("crm_id: required"))
				continue
			}
			if err := checkCRMID(crmID); err != nil {
				lineErr(err)
				continue
			}
			var holder int64
			err = tx.QueryRowContext(ctx, "SELECT id FROM profiles WHERE crm_id=?", crmID).Scan(&holder)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("look up CRM id: %w", err)
			}
			var profileID int64
			err = tx.QueryRowContext(ctx, "SELECT profile_id FROM identities WHERE source=? AND author_id=?", source, authorID).Scan(&profileID)
			if errors.Is(err, sql.ErrNoRows) {
				if holder != 0 {
					lineErr(fmt.Errorf("CRM id %q belongs to profile %d (link the identities instead)", crmID, holder))
					continue
				}
				r, err := tx.ExecContext(ctx, "INSERT INTO profiles(created_at, updated_at) VALUES(?,?)", now, now)
				if err != nil {
					return fmt.Errorf("create profile: %w", err)
				}
				profileID, _ = r.LastInsertId()
				if _, err := tx.ExecContext(ctx, "INSERT INTO identities(source, author_id, profile_id, first_seen, last_seen) VALUES(?,?,?,?,?)", source, authorID, profileID, now, now); err != nil {
					return fmt.Errorf("create identity: %w", err)
				}
			} else if err != nil {
				return fmt.Errorf("look up identity: %w", err)
			}
			h, err := head(ctx, tx, profileID)
			if err != nil {
				return err
			}
			if h.crmID.Valid && h.crmID.String != crmID {
				lineErr(fmt.Errorf("profile %d already has CRM id %q", profileID, h.crmID.String))
				continue
			}
			changed, err := setCRMID(ctx, tx, profileID, crmID, now)
			switch {
			case errors.Is(err, ErrConflict):
				lineErr(err)
			case err != nil:
				return err
			case changed:
				res.Linked++
			default:
				res.Unchanged++
			}
		}
	})
	if err != nil {
		return ImportResult{}, err
	}
	c.metrics.links.WithLabelValues("import").Add(float64(res.Linked))
	return res, nil
}
