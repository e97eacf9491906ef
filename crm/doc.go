// Package crm is Vigie's customer side: one person across networks, linked
// to the brand's CRM, with what they shared by consent, their satisfaction
// (CSAT surveys after a resolved ticket) and saved segments exported to the
// CRM.
//
// The CRM is a sink: it follows the desk's event log (mention.received,
// ticket.*, offer.*, mention.deleted) from its own persisted cursor, in
// batches, and commits what it derived together with the cursor in one
// SQLite transaction (<data>/crm.db). It can fall behind, catch up, or be
// rebuilt from the log without ever slowing the path from a post to an
// agent.
//
// Profiles. Every author seen in a mention (and every person an offer was
// decided for) is an identity: source, author id, handle, name, profile
// URL, followers, influence. An identity always belongs to exactly one
// profile; a new identity starts alone in its own profile. Only a person
// (an agent, through the API) moves identities between profiles: Vigie
// suggests links — the same normalised handle on another network, the same
// full name, a post linking to the other identity's profile URL — and never
// merges by itself. A profile carries the brand's CRM customer id, the
// fields the person shared with consent (city, interests: set only through
// the API with a consent flag, wiped when consent is withdrawn), influence
// (the highest of its identities), a daily sentiment history, satisfaction
// and a timeline of tickets, mentions, offers, CSAT answers and consents.
//
// CSAT. When a ticket becomes resolved in a queue that has a survey
// template (Config.Surveys), a survey is recorded with a signed,
// single-use, expiring token and a csat.offered event is published; the
// public endpoint POST /api/v1/csat/{token} takes a 1–5 rating, stores it
// on the ticket's record and publishes csat.rated through the desk, so that
// the archive and the UI see it. Events leave through a durable outbox, at
// least once and in order. The survey message itself (the template with the
// signed link) is sent to the customer on the ticket's network through the
// desk's outbox, the path of the agents' replies, when the Publisher is
// also a SurveySender ((*desk.Desk).SystemReply): as a message from no
// person, it never counts as a first response; its idempotency key is the
// ticket's, so it goes out once per ticket, across restarts and rebuilds.
//
// Segments. Saved, typed filters over profiles (no free-form code),
// counted live, listed, exported as CSV or to the CRM by a signed webhook.
// Exports hold ids only for a person without consent; the consented fields
// (handles, names, city, interests, influence) only with it.
//
// Campaigns. Outbound messages to a segment through the networks that allow
// them (Config.Campaigns.Networks), posted through a desk.Replier (the
// connectors' reply path, SetReplier): planned when the campaign starts —
// per person, the first of its networks where they have a post to answer,
// people without consent recorded as skipped — then sent by one goroutine
// within each network's token bucket, after checking consent and the
// per-person frequency cap again. Each recipient is a row (queued, sent,
// failed, skipped, cancelled; replied_at when the person answers) with an
// idempotency key, so that a restart never sends twice. CampaignStep does
// one round on the CRM's clock; campaign.* events go out on the offers
// topic.
//
// Erasure. A mention.deleted for a post removes that post; one for an
// account removes the identity and everything derived from it (mentions,
// tickets, surveys, offers, queued events), and a profile left without
// identity is deleted.
//
// A CRM is safe for concurrent use; Run must be called once.
package crm
