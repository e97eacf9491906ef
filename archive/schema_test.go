package archive

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite deploy/clickhouse/schema.sql from the migrations")

const schemaFile = "../deploy/clickhouse/schema.sql"

// schemaSQL renders the ClickHouse migrations as one SQL file.
func schemaSQL() string {
	var b strings.Builder
	b.WriteString("-- Vigie's ClickHouse archive schema (ClickHouse 18.16 and later).\n")
	b.WriteString("-- Generated from archive/archive_clickhouse.go by\n")
	b.WriteString("--   go test ./archive -run TestSchemaFile -update\n")
	b.WriteString("-- Vigie applies it itself at start; this file is for reading and for\n")
	b.WriteString("-- creating the tables by hand: clickhouse-client -d DB --multiquery < schema.sql\n\n")
	b.WriteString(schemaMigrationsTable + ";\n")
	for i, m := range chMigrations {
		b.WriteString(fmt.Sprintf("\n-- Migration %d\n", i+1))
		for _, stmt := range m {
			b.WriteString("\n" + stmt + ";\n")
		}
	}
	return b.String()
}

func TestSchemaFile(t *testing.T) {
	want := schemaSQL()
	if *update {
		if err := os.WriteFile(schemaFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date: run go test ./archive -run TestSchemaFile -update", schemaFile)
	}
}

// TestQuantileMatchesClickHouse checks quantileExact against the server's
// own, on many sizes and levels.
func TestQuantileMatchesClickHouse(t *testing.T) {
	t.Parallel()
	c := newClickHouse(t)
	ctx := context.Background()
	for n := 1; n <= 40; n++ {
		var ch []int64
		if err := c.conn.QueryRow(ctx, `SELECT quantilesExact(0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1)(toInt64(number * 7 % 101))
			FROM numbers(?)`, uint64(n)).Scan(&ch); err != nil {
			t.Fatal(err)
		}
		d := make([]int64, n)
		for i := range d {
			d[i] = int64(i * 7 % 101)
		}
		slices64(d)
		for i, q := range []float64{0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1} {
			if got := quantileExact(d, q); got != ch[i] {
				t.Errorf("n=%d q=%v: Go %d, ClickHouse %d", n, q, got, ch[i])
			}
		}
	}
}

// TestErasureRemovesIdentity checks that after a deletion no archived row
// names the author, in either store, while the mention still counts.
func TestErasureRemovesIdentity(t *testing.T) {
	t.Parallel()
	e := newEvents()
	e.mention(t, mention{id: "p1", author: "eve", label: "negative", received: at(time.Minute)})
	e.mention(t, mention{id: "p2", author: "eve", label: "negative", received: at(2 * time.Minute)})
	e.mention(t, mention{id: "p3", author: "sam", label: "positive", received: at(3 * time.Minute)})
	e.mention(t, mention{id: "p4", author: "sam", label: "positive", received: at(3 * time.Minute)})
	e.deleted(t, "mastodon", "", "eve", at(4*time.Minute))
	e.deleted(t, "mastodon", "p3", "", at(4*time.Minute))
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			writeReplaying(t, s, e.list, 2)
			want := map[string]string{"p1": "", "p2": "", "p3": "", "p4": "sam"}
			deadline := time.Now().Add(10 * time.Second) // ClickHouse mutations are asynchronous
			for {
				got := authors(t, s)
				if mapsEqual(got, want) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("authors after erasure = %v, want %v", got, want)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if m, _ := totalMentions(t, s, Query{From: t0, To: at(time.Hour), Interval: time.Hour}); m != 4 {
				t.Errorf("mentions = %d, want 4: erasure keeps pseudonymous facts", m)
			}
		})
	}
}

// authors returns each archived mention's author id and handle, joined.
func authors(tb testing.TB, s Store) map[string]string {
	tb.Helper()
	out := map[string]string{}
	const q = `SELECT id, author_id, author_handle, author_followers FROM mentions`
	add := func(id, author, handle string, followers int64) {
		switch {
		case author == "" && handle == "" && followers == 0:
			out[id] = ""
		default:
			out[id] = author
		}
	}
	switch s := s.(type) {
	case *Embedded:
		rows, err := s.db.R.Query(q)
		if err != nil {
			tb.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, a, h string
			var f int64
			if err := rows.Scan(&id, &a, &h, &f); err != nil {
				tb.Fatal(err)
			}
			add(id, a, h, f)
		}
	case *ClickHouse:
		rows, err := s.conn.Query(context.Background(), q)
		if err != nil {
			tb.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, a, h string
			var f int64
			if err := rows.Scan(&id, &a, &h, &f); err != nil {
				tb.Fatal(err)
			}
			add(id, a, h, f)
		}
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
