package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
)

// The audit log is an append-only, hash-chained record of what people and
// programs did with their rights: user and token changes, logins, and the
// actions other parts report through Audit (replies, rule changes, exports,
// erasures, sources, retention runs). It lives in the auth database so that
// a user or token change and its record commit in one transaction.
//
// Append-only is enforced twice: SQLite triggers refuse every UPDATE and
// DELETE of the table, and each entry carries the SHA-256 of its content
// chained to the previous entry's hash (hash = SHA-256(prev_hash ‖ fields)),
// so that an entry edited or removed behind the database's back (the file
// edited, the triggers dropped) breaks the chain at that point, which
// VerifyAudit reports. Removing the newest entries leaves a valid but
// shorter chain: the archive's copy (archive.AuditFeeder) is the witness
// for those.

// AuditAction names what an audit entry records. Actions are
// "<object>.<verb in the past>".
type AuditAction = string

// The actions auth records itself.
const (
	AuditLoginSucceeded  AuditAction = "login.succeeded"
	AuditLoginFailed     AuditAction = "login.failed"
	AuditUserCreated     AuditAction = "user.created"
	AuditUserUpdated     AuditAction = "user.updated"
	AuditUserDeleted     AuditAction = "user.deleted"
	AuditPasswordChanged AuditAction = "user.password_changed"
	AuditTokenCreated    AuditAction = "token.created"
	AuditTokenRevoked    AuditAction = "token.revoked"
)

// AuditEntry is one record of the audit log.
type AuditEntry struct {
	// Seq numbers entries from 1, without gaps.
	Seq int64     `json:"seq"`
	At  time.Time `json:"at"`
	// Actor is who acted: a user name, AdminTokenUser, or for actions of
	// Vigie itself or of the command line the name given to SystemContext.
	Actor string `json:"actor"`
	// ActorRole is the role the actor acted with ("" for the system).
	ActorRole Role `json:"actor_role"`
	// Via is how the actor authenticated (ViaSession, ViaToken, ...).
	Via    string      `json:"via"`
	Action AuditAction `json:"action"`
	// Target is what the action was on, "<kind>:<id>" (user:ana,
	// token:0123..., ticket:42, author:mastodon/123), or "".
	Target string `json:"target"`
	// Detail is a JSON object with the action's particulars. It never holds
	// passwords, tokens or people's post text.
	Detail json.RawMessage `json:"detail"`
	// RemoteIP is the client's address ("" outside HTTP).
	RemoteIP string `json:"remote_ip"`
	// RequestID is the request's X-Request-Id ("" outside HTTP).
	RequestID string `json:"request_id"`
	// PrevHash and Hash are the chain links, in hex.
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// auditGenesis is the PrevHash of the first entry.
var auditGenesis = make([]byte, sha256.Size)

// auditHash returns the hash of e chained to prev: SHA-256 over prev and
// every field, each length-prefixed so that no two entries encode alike.
func auditHash(prev []byte, e *AuditEntry) []byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	put := func(b []byte) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
		h.Write(b)
	}
	put([]byte("vigie-audit-v1"))
	put(prev)
	put(strconv.AppendInt(nil, e.Seq, 10))
	put(strconv.AppendInt(nil, e.At.UnixMilli(), 10))
	for _, s := range []string{e.Actor, string(e.ActorRole), e.Via, e.Action, e.Target, string(e.Detail), e.RemoteIP, e.RequestID} {
		put([]byte(s))
	}
	return h.Sum(nil)
}

// requestInfo is where an HTTP request came from, for the audit log.
type requestInfo struct{ ip, id string }

type requestKey struct{}

// WithRequest returns ctx carrying the client address and request id that
// audit entries written under it record. The auth middleware and the login
// handler call it; other callers need not.
func WithRequest(ctx context.Context, remoteIP, requestID string) context.Context {
	return context.WithValue(ctx, requestKey{}, requestInfo{ip: remoteIP, id: cleanRequestID(requestID)})
}

// maxRequestIDLen bounds a client-chosen X-Request-Id kept in the log.
const maxRequestIDLen = 64

// cleanRequestID keeps a request id that is short printable ASCII, and
// makes one up otherwise (an id the client sent is only a correlation
// handle: it is not trusted for anything).
func cleanRequestID(s string) string {
	ok := s != "" && len(s) <= maxRequestIDLen
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] > ' ' && s[i] < 0x7f
	}
	if ok {
		return s
	}
	return NewRequestID()
}

// NewRequestID returns a fresh random request id.
func NewRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SystemContext returns ctx acting as name, a part of Vigie or the command
// line ("retention", "cli"), for the audit log. The principal it carries
// has no role: Require refuses it everything.
func SystemContext(ctx context.Context, name string) context.Context {
	return NewContext(ctx, Principal{User: name, Via: ViaSystem})
}

// auditRecord is what a caller records; appendAudit completes it.
type auditRecord struct {
	action AuditAction
	target string
	detail any
}

// appendAudit appends records to the log in tx, as the principal of ctx,
// and returns the last entry's Seq.
func (a *Auth) appendAudit(ctx context.Context, tx *sqlite.Tx, recs ...auditRecord) (int64, error) {
	p, _ := FromContext(ctx)
	ri, _ := ctx.Value(requestKey{}).(requestInfo)
	var (
		seq  int64
		prev []byte
	)
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		prev = auditGenesis
	case err != nil:
		return 0, fmt.Errorf("read audit head: %w", err)
	}
	actor := p.User
	if actor == "" {
		actor = "anonymous"
	}
	now := fromMS(ms(a.now()))
	for _, r := range recs {
		detail := []byte("{}")
		if r.detail != nil {
			b, err := json.Marshal(r.detail)
			if err != nil {
				return 0, fmt.Errorf("encode audit detail of %s: %w", r.action, err)
			}
			if len(b) == 0 || b[0] != '{' {
				return 0, fmt.Errorf("audit detail of %s: want a JSON object, got %s", r.action, b)
			}
			detail = b
		}
		seq++
		e := AuditEntry{Seq: seq, At: now, Actor: actor, ActorRole: p.Role, Via: p.Via, Action: r.action,
			Target: r.target, Detail: detail, RemoteIP: ri.ip, RequestID: ri.id}
		hash := auditHash(prev, &e)
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit(seq, at, actor, actor_role, via, action, target, detail, remote_ip, request_id, prev_hash, hash)
			VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, ms(e.At), e.Actor, string(e.ActorRole), e.Via, e.Action, e.Target, string(e.Detail), e.RemoteIP, e.RequestID, prev, hash); err != nil {
			return 0, fmt.Errorf("append audit entry %s: %w", r.action, err)
		}
		prev = hash
	}
	return seq, nil
}

// txAudit runs fn in a write transaction and appends the records it
// returns in the same transaction: the change and its record commit
// together or not at all.
func (a *Auth) txAudit(ctx context.Context, fn func(tx *sqlite.Tx) ([]auditRecord, error)) error {
	var seq int64
	err := a.tx(ctx, func(tx *sqlite.Tx) error {
		recs, err := fn(tx)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			seq, err = a.appendAudit(ctx, tx, recs...)
		}
		return err
	})
	if err == nil && seq > 0 {
		a.auditAppended(seq)
	}
	return err
}

// Audit appends one entry: action on target by the principal of ctx (see
// NewContext, SystemContext), from the request of ctx (WithRequest). detail
// must encode as a JSON object (nil is {}); it must hold no secret and no
// post text. The entry is durable when Audit returns nil.
func (a *Auth) Audit(ctx context.Context, action AuditAction, target string, detail any) error {
	if action == "" {
		return errors.New("audit: action required")
	}
	err := a.txAudit(ctx, func(*sqlite.Tx) ([]auditRecord, error) {
		return []auditRecord{{action, target, detail}}, nil
	})
	if err != nil {
		a.metrics.auditErrors.Inc()
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// auditAppended wakes WaitAudit callers after entries up to seq committed.
func (a *Auth) auditAppended(seq int64) {
	a.auditMu.Lock()
	defer a.auditMu.Unlock()
	if seq > a.auditHead {
		a.auditHead = seq
	}
	a.metrics.auditEntries.Set(float64(a.auditHead))
	close(a.auditChanged)
	a.auditChanged = make(chan struct{})
}

// AuditHead returns the Seq of the newest entry, 0 when the log is empty.
func (a *Auth) AuditHead() int64 {
	a.auditMu.Lock()
	defer a.auditMu.Unlock()
	return a.auditHead
}

// auditPoll is how often WaitAudit also looks at the database, for entries
// another process wrote (vigie user ... while the server runs).
const auditPoll = 5 * time.Second

// WaitAudit blocks until an entry with Seq > after exists and returns nil,
// or until ctx ends and returns ctx.Err().
func (a *Auth) WaitAudit(ctx context.Context, after int64) error {
	t := time.NewTicker(auditPoll)
	defer t.Stop()
	for {
		a.auditMu.Lock()
		head, ch := a.auditHead, a.auditChanged
		a.auditMu.Unlock()
		if head > after {
			return nil
		}
		select {
		case <-ch:
		case <-t.C:
			var seq int64
			if err := a.db.R.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit`).Scan(&seq); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("read audit log head: %w", err)
			}
			if seq > head {
				a.auditAppended(seq)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

const auditColumns = `seq, at, actor, actor_role, via, action, target, detail, remote_ip, request_id, prev_hash, hash`

func scanAudit(s scanner) (AuditEntry, []byte, []byte, error) {
	var (
		e          AuditEntry
		at         int64
		detail     string
		prev, hash []byte
	)
	if err := s.Scan(&e.Seq, &at, &e.Actor, &e.ActorRole, &e.Via, &e.Action, &e.Target, &detail, &e.RemoteIP, &e.RequestID, &prev, &hash); err != nil {
		return AuditEntry{}, nil, nil, fmt.Errorf("read audit entry: %w", err)
	}
	e.At, e.Detail = fromMS(at), json.RawMessage(detail)
	e.PrevHash, e.Hash = hex.EncodeToString(prev), hex.EncodeToString(hash)
	return e, prev, hash, nil
}

// ReadAudit returns up to max entries with Seq > after, oldest first: the
// stream the archive follows.
func (a *Auth) ReadAudit(ctx context.Context, after int64, max int) ([]AuditEntry, error) {
	rows, err := a.db.R.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, after, max)
	if err != nil {
		return nil, fmt.Errorf("read audit log after %d: %w", after, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e, _, _, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log after %d: %w", after, err)
	}
	return out, nil
}

// AuditQuery selects audit entries, newest first. Zero fields select
// everything.
type AuditQuery struct {
	Actor  string
	Action AuditAction // an action, or a prefix ending in "." ("user.")
	From   time.Time   // inclusive
	To     time.Time   // exclusive
	// Before is a keyset cursor: only entries with Seq < Before (0: none).
	Before int64
	// Limit is the page size (default and maximum 500).
	Limit int
}

// MaxAuditPage bounds AuditQuery.Limit.
const MaxAuditPage = 500

// AuditPage is one page of QueryAudit. Next is the Before of the next
// page, 0 after the last.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    int64        `json:"next_before,omitempty"`
}

// QueryAudit returns the entries q selects, newest first.
func (a *Auth) QueryAudit(ctx context.Context, q AuditQuery) (AuditPage, error) {
	if q.Limit <= 0 || q.Limit > MaxAuditPage {
		q.Limit = MaxAuditPage
	}
	var (
		where []string
		args  []any
	)
	if q.Actor != "" {
		where, args = append(where, `actor = ?`), append(args, q.Actor)
	}
	if q.Action != "" {
		if strings.HasSuffix(q.Action, ".") {
			where, args = append(where, `substr(action, 1, ?) = ?`), append(args, len(q.Action), q.Action)
		} else {
			where, args = append(where, `action = ?`), append(args, q.Action)
		}
	}
	if !q.From.IsZero() {
		where, args = append(where, `at >= ?`), append(args, ms(q.From))
	}
	if !q.To.IsZero() {
		where, args = append(where, `at < ?`), append(args, ms(q.To))
	}
	if q.Before > 0 {
		where, args = append(where, `seq < ?`), append(args, q.Before)
	}
	sqlq := `SELECT ` + auditColumns + ` FROM audit`
	if len(where) > 0 {
		sqlq += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := a.db.R.QueryContext(ctx, sqlq+` ORDER BY seq DESC LIMIT ?`, append(args, q.Limit+1)...)
	if err != nil {
		return AuditPage{}, fmt.Errorf("query audit log: %w", err)
	}
	defer rows.Close()
	page := AuditPage{Entries: []AuditEntry{}}
	for rows.Next() {
		e, _, _, err := scanAudit(rows)
		if err != nil {
			return AuditPage{}, err
		}
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return AuditPage{}, fmt.Errorf("query audit log: %w", err)
	}
	if len(page.Entries) > q.Limit {
		page.Entries = page.Entries[:q.Limit]
		page.Next = page.Entries[q.Limit-1].Seq
	}
	return page, nil
}

// AuditChainError says where the audit chain is broken.
type AuditChainError struct {
	Seq    int64
	Reason string
}

func (e *AuditChainError) Error() string {
	return fmt.Sprintf("audit log tampered with at entry %d: %s", e.Seq, e.Reason)
}

// VerifyAudit walks the whole audit log and checks its hash chain: numbering
// without gaps from 1, each entry's prev_hash equal to the hash before it,
// and each hash equal to the hash of the entry's content. It returns the
// number of entries checked, and an *AuditChainError at the first break.
func (a *Auth) VerifyAudit(ctx context.Context) (int64, error) {
	rows, err := a.db.R.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	prev, n := auditGenesis, int64(0)
	for rows.Next() {
		e, storedPrev, storedHash, err := scanAudit(rows)
		if err != nil {
			return n, err
		}
		switch {
		case e.Seq != n+1:
			return n, &AuditChainError{Seq: n + 1, Reason: fmt.Sprintf("entry missing (next is %d)", e.Seq)}
		case !bytes.Equal(storedPrev, prev):
			return n, &AuditChainError{Seq: e.Seq, Reason: "prev_hash does not match the previous entry"}
		case !bytes.Equal(auditHash(prev, &e), storedHash):
			return n, &AuditChainError{Seq: e.Seq, Reason: "content does not match its hash"}
		}
		prev, n = storedHash, e.Seq
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read audit log: %w", err)
	}
	return n, nil
}
