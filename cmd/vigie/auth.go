package main

import (
	"context"

	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/desk"
)

// demoPassword is the password of the demo users (agent, monitor, manager,
// admin) that `vigie serve --demo` creates. Never use --demo in production.
const demoPassword = "vigie-demo-password"

// userOf returns the authenticated user of a request.
func userOf(ctx context.Context) string {
	p, _ := auth.FromContext(ctx)
	return p.User
}

// topicsFor returns the websocket topics a principal may receive (a token
// scoped to a source: none but presence).
func topicsFor(r auth.Principal) []desk.Topic {
	if r.Source != "" {
		return []desk.Topic{}
	}
	topics := []desk.Topic{desk.TopicPresence}
	for _, tp := range []struct {
		topic desk.Topic
		perm  auth.Permission
	}{
		{desk.TopicTickets, auth.PermReadTickets},
		{desk.TopicMentions, auth.PermReadMentions},
		{desk.TopicAlerts, auth.PermReadAlerts},
		{desk.TopicOffers, auth.PermReadOffers},
		{desk.TopicKPIs, auth.PermReadKPIs},
	} {
		if r.Can(tp.perm) {
			topics = append(topics, tp.topic)
		}
	}
	return topics
}
