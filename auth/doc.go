// Package auth authenticates Vigie's users and programs and decides what
// each may do.
//
// Users have a Role (agent, monitor, manager, admin); each role grants a fixed
// set of Permissions (the table in role.go is the authorization matrix), and
// HTTP routes guard themselves with Require(Permission). Browsers log in with
// a password (argon2id, PHC-encoded so its cost can be raised later) and get
// a session cookie plus a CSRF token that unsafe requests must echo; programs
// send an API token (vgt_<id>_<secret>, stored as a SHA-256, scoped to a role
// the user's role covers, revocable) as a bearer token; VIGIE_ADMIN_TOKEN is
// accepted as an administrator's token. A token may also be scoped to one
// source (TokenSpec.Source): it then may only ingest, and only that source's
// items. Failed logins are throttled per (user, address) pair, per user and
// per address.
//
// The audit log (audit.go) records logins, user and token changes in the
// same transaction as the change, and whatever other parts report through
// Audit; it is append-only (triggers) and hash-chained (VerifyAudit), read
// by GET /audit (PermReadAudit) and followed by the archive (ReadAudit,
// WaitAudit).
//
// Users, sessions and tokens live in one SQLite file (internal/sqlite). Role
// changes, disabling and revocation take effect on the next request: every
// request reads its session or token with its user's current role.
//
// Auth is safe for concurrent use. Password hashing runs under a semaphore
// (Config.MaxConcurrentHashes), because each hash takes Params.MemoryKiB.
// Passwords, tokens and session ids are never logged.
//
// auth imports no other Vigie package but internal/sqlite: it sits beside
// the data flow, and cmd/vigie mounts its middleware in front of the API.
package auth
