package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/archive"
	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/desk"
)

// auditRoute says how a successful call of a route is recorded in the audit
// log: the action, and the kind of its target (whose id is the route's path
// parameters, joined by "/").
type auditRoute struct {
	action string
	target string
}

// auditedRoutes are the agents' and admins' actions recorded by auditTrail.
// Every unsafe API route is either here or in auditExempt (a test checks),
// so a new endpoint is placed in the audit log or left out on purpose.
var auditedRoutes = map[string]auditRoute{
	"POST /api/v1/tickets/:id/assign":                           {"ticket.assigned", "ticket"},
	"POST /api/v1/tickets/:id/reply":                            {"ticket.replied", "ticket"},
	"POST /api/v1/tickets/:id/macro":                            {"ticket.macro_replied", "ticket"},
	"POST /api/v1/tickets/:id/note":                             {"ticket.noted", "ticket"},
	"POST /api/v1/tickets/:id/resolve":                          {"ticket.resolved", "ticket"},
	"POST /api/v1/tickets/resolve":                              {"tickets.resolved", "tickets"},
	"PUT /api/v1/macros/:name":                                  {"macro.saved", "macro"},
	"DELETE /api/v1/macros/:name":                               {"macro.deleted", "macro"},
	"PUT /api/v1/rules":                                         {"rules.changed", "rules"},
	"POST /api/v1/rules/rollback":                               {"rules.rolled_back", "rules"},
	"PUT /api/v1/agents/:name":                                  {"agent.updated", "agent"},
	"DELETE /api/v1/agents/:name":                               {"agent.deleted", "agent"},
	"DELETE /api/v1/authors/:source/:author_id":                 {"author.erased", "author"},
	"GET /api/v1/authors/:source/:author_id/export":             {"author.exported", "author"},
	"POST /api/v1/sources/:name/enable":                         {"source.enabled", "source"},
	"POST /api/v1/sources/:name/disable":                        {"source.disabled", "source"},
	"POST /api/v1/alerts/:id/ack":                               {"alert.acked", "alert"},
	"POST /api/v1/geofences":                                    {"geofence.created", "geofence"},
	"PUT /api/v1/geofences/:id":                                 {"geofence.saved", "geofence"},
	"DELETE /api/v1/geofences/:id":                              {"geofence.deleted", "geofence"},
	"POST /api/v1/campaigns":                                    {"campaign.created", "campaign"},
	"PUT /api/v1/campaigns/:id":                                 {"campaign.saved", "campaign"},
	"DELETE /api/v1/campaigns/:id":                              {"campaign.deleted", "campaign"},
	"PUT /api/v1/consents/:source/:user_id":                     {"consent.given", "consent"},
	"DELETE /api/v1/consents/:source/:user_id":                  {"consent.withdrawn", "consent"},
	"POST /api/v1/offers/:id/retry":                             {"offer.retried", "offer"},
	"POST /api/v1/profiles/:id/identities":                      {"profile.linked", "profile"},
	"DELETE /api/v1/profiles/:id/identities/:source/:author_id": {"profile.unlinked", "profile"},
	"PUT /api/v1/profiles/:id/crm":                              {"profile.crm_id_set", "profile"},
	"PUT /api/v1/profiles/:id/consent":                          {"profile.consent_set", "profile"},
	"POST /api/v1/profiles/import":                              {"profiles.imported", "profiles"},
	"POST /api/v1/segments":                                     {"segment.created", "segment"},
	"PUT /api/v1/segments/:id":                                  {"segment.saved", "segment"},
	"DELETE /api/v1/segments/:id":                               {"segment.deleted", "segment"},
	"GET /api/v1/segments/:id/export.csv":                       {"segment.exported", "segment"},
	"POST /api/v1/segments/:id/export":                          {"segment.exported", "segment"},
	"POST /api/v1/crm/campaigns":                                {"crm_campaign.created", "crm_campaign"},
	"POST /api/v1/crm/campaigns/:id/start":                      {"crm_campaign.started", "crm_campaign"},
	"POST /api/v1/crm/campaigns/:id/pause":                      {"crm_campaign.paused", "crm_campaign"},
	"POST /api/v1/crm/campaigns/:id/cancel":                     {"crm_campaign.cancelled", "crm_campaign"},
}

// auditExempt are the unsafe API routes auditTrail leaves alone, and why.
var auditExempt = map[string]string{
	"POST /api/v1/mentions":            "ingest: one entry per item would drown the log; counted in metrics",
	"POST /api/v1/checkins":            "ingest: counted in metrics",
	"POST /api/v1/login":               "auth records logins itself",
	"POST /api/v1/logout":              "ends one's own session",
	"POST /api/v1/me/password":         "auth records it itself",
	"POST /api/v1/users":               "auth records it itself",
	"PATCH /api/v1/users/:name":        "auth records it itself",
	"DELETE /api/v1/users/:name":       "auth records it itself",
	"POST /api/v1/tokens":              "auth records it itself",
	"DELETE /api/v1/tokens/:id":        "auth records it itself",
	"POST /api/v1/rules/validate":      "reads a draft, changes nothing",
	"POST /api/v1/rules/dry-run":       "reads a draft, changes nothing",
	"POST /api/v1/offers/:id/redeemed": "the gateway's callback, not a person's action",
	"POST /api/v1/csat/:token":         "a customer's survey answer, not an agent's action",
}

// auditTrail is middleware for the API group (after authentication): a
// successful call (2xx) of a route in auditedRoutes is recorded in the
// audit log, as its principal, from its address and request id; so is a
// call whose action was committed but whose fsync failed
// (desk.ErrNotDurable), with its error. The action has happened when the
// record is written: a failure to record is logged and counted
// (vigie_auth_audit_errors_total), and the answer stands.
func (s *server) auditTrail(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		ar, ok := auditedRoutes[c.Request().Method+" "+c.Path()]
		if !ok {
			return err
		}
		// An action committed whose fsync failed has happened too.
		notDurable := errors.Is(err, desk.ErrNotDurable)
		if err != nil && !notDurable {
			return err
		}
		status := c.Response().Status
		if notDurable {
			status = http.StatusInternalServerError // what errorHandler answers
		} else if status < 200 || status > 299 {
			return nil
		}
		ids := c.ParamValues()
		target := ar.target
		if len(ids) > 0 {
			target += ":" + strings.Join(ids, "/")
		}
		detail := map[string]any{"route": c.Request().Method + " " + c.Path(), "status": status}
		if more, ok := c.Get(desk.AuditDetailKey).(map[string]any); ok {
			for k, v := range more {
				detail[k] = v
			}
		}
		if notDurable {
			detail["error"] = err.Error()
		}
		// The action has happened: a client gone meanwhile (its request's
		// context canceled) must not take the record with it.
		if aerr := s.auth.Audit(context.WithoutCancel(c.Request().Context()), ar.action, target, detail); aerr != nil {
			s.log.Error("audit_failed", "action", ar.action, "error", aerr)
		}
		return err
	}
}

// checkAudit verifies the audit log's hash chain in dataDir's auth.db, when
// there is one, and that the embedded archive's copy agrees with it (a
// copy holding entries the log lost means the log was truncated).
func checkAudit(ctx context.Context, dataDir string, stdout io.Writer) error {
	path := filepath.Join(dataDir, "auth.db")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	a, err := auth.New(ctx, auth.Config{Path: path}, nil, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	archivePath := filepath.Join(dataDir, "archive.db")
	if _, err := os.Stat(archivePath); err == nil {
		store, err := archive.OpenEmbedded(ctx, archivePath)
		if err != nil {
			return err
		}
		defer store.Close()
		for after := int64(0); ; {
			copies, err := store.AuditEntries(ctx, after, 1000)
			if err != nil {
				return err
			}
			if len(copies) == 0 {
				break
			}
			live, err := a.ReadAudit(ctx, after, len(copies))
			if err != nil {
				return err
			}
			for i, cp := range copies {
				if i >= len(live) {
					return fmt.Errorf("audit log: the archive holds entry %d, the log ends at %d: truncated", cp.Seq, n)
				}
				if live[i].Seq != cp.Seq || live[i].Hash != cp.Hash {
					return fmt.Errorf("audit log: entry %d differs from its archived copy", cp.Seq)
				}
			}
			after = copies[len(copies)-1].Seq
		}
	}
	fmt.Fprintf(stdout, "audit log: %d entries, hash chain intact\n", n)
	return nil
}
