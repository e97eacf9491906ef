// Package demo generates a live, realistic stream of mentions for Velora, a
// fictional European train operator with shops and cafés ("Velora Café") in
// its stations, and for its competitors Zephyr Rail and RailNova.
//
// The stream mixes complaints, questions, praise, purchase intent, churn,
// spam, rare crisis posts and competitor talk, in French and English with some
// Spanish, German and Italian, from Mastodon, Bluesky, X, Facebook and
// Instagram, each with that network's ids, handles and URLs. A stable pool of
// authors with Zipf-like activity posts them, so that profiles and histories
// mean something: authors come back in the same conversation (follow-ups),
// sometimes edit a post (same id, new text), and some posts carry coordinates
// near a Velora station. A slower stream of check-ins near the stations can
// feed the geo offers.
//
// Texts are composed from templates and slots (stations, train numbers,
// amounts, times, emoji, hashtags, typos, elongations, capitals), so thousands
// of mentions do not repeat verbatim. Everything derives from Config.Seed: two
// generators with the same Config produce the same stream.
//
// A Generator is a listener.Source (Run paces items in real time) and a bulk
// generator (Next, NextLabeled, WriteNDJSON) for tests and benchmarks. Its
// methods are safe for concurrent use; they serialise on one mutex.
package demo
