package auth

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	id, secret, text := newToken()
	if !strings.HasPrefix(text, "vgt_"+id+"_") || len(text) != tokenLen {
		t.Fatalf("token text %q", text)
	}
	gid, gsecret, err := parseToken(text)
	if err != nil || gid != id || hex.EncodeToString(gsecret) != hex.EncodeToString(secret) {
		t.Fatalf("parseToken(%q) = %q, %x, %v", text, gid, gsecret, err)
	}
}

func TestParseTokenRejects(t *testing.T) {
	t.Parallel()
	_, _, good := newToken()
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"no prefix", good[4:]},
		{"other prefix", "ghp_" + good[4:]},
		{"upper hex", strings.ToUpper(good[:4]) + strings.ToUpper(good[4:])},
		{"upper secret", good[:21] + strings.ToUpper(good[21:])},
		{"short", good[:len(good)-1]},
		{"long", good + "0"},
		{"separator moved", good[:19] + "_" + good[19:20] + good[21:]},
		{"no separator", good[:20] + "0" + good[21:]},
		{"non-hex", good[:len(good)-1] + "g"},
		{"admin token", testAdminToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := parseToken(tt.in); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("parseToken(%q) error = %v, want ErrInvalidToken", tt.in, err)
			}
		})
	}
}

func TestParseSessionID(t *testing.T) {
	t.Parallel()
	id := newSessionID()
	k1, err := parseSessionID(id)
	if err != nil || len(k1) != 32 {
		t.Fatalf("parseSessionID(new) = %x, %v", k1, err)
	}
	// "B" leaves non-zero padding bits: a non-canonical encoding.
	for _, bad := range []string{"", id[:42], id + "A", strings.Repeat("+", 43), id[:42] + "=", id[:42] + "B"} {
		if _, err := parseSessionID(bad); err == nil {
			t.Errorf("parseSessionID(%q) accepted", bad)
		}
	}
}

func TestBearer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Basic YWxhZGRpbjpvcGVuc2VzYW1l", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer a b", "", false},
		{"abc", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := bearer(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("bearer(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

// FuzzParseCredential feeds arbitrary Authorization headers and cookie
// values to the parsers: they must never panic, and whatever they accept
// must be exactly the shape Vigie issues.
func FuzzParseCredential(f *testing.F) {
	_, _, tok := newToken()
	f.Add("Bearer " + tok)
	f.Add("Bearer " + testAdminToken)
	f.Add(newSessionID())
	f.Add("vgt_0123456789abcdef_")
	f.Add("bearer vgt_" + strings.Repeat("_", 81))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if cred, err := bearer(s); err == nil {
			if cred == "" || strings.ContainsAny(cred, " \t") {
				t.Fatalf("bearer(%q) accepted credential %q", s, cred)
			}
		}
		if id, secret, err := parseToken(s); err == nil {
			if s != tokenPrefix+id+"_"+hex.EncodeToString(secret) {
				t.Fatalf("parseToken(%q) accepted a non-canonical token", s)
			}
			if !validTokenID(id) {
				t.Fatalf("parseToken(%q) returned invalid id %q", s, id)
			}
		}
		if key, err := parseSessionID(s); err == nil && (len(key) != 32 || len(s) != sessionIDLen) {
			t.Fatalf("parseSessionID(%q) accepted", s)
		}
	})
}
