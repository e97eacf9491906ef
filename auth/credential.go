package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// API tokens read vgt_<id>_<secret>: a fixed prefix that secret scanners
// can recognise, a 16-hex-digit id (8 random bytes: the public handle used to
// list and revoke), and a 64-hex-digit secret (32 random bytes). Only the
// SHA-256 of the secret is stored: a salted slow hash is for guessable
// passwords, while 256 random bits cannot be guessed, so one fast hash is
// enough to make a stolen database useless.
const (
	tokenPrefix    = "vgt_"
	tokenIDBytes   = 8
	tokenSecretLen = 32
	tokenLen       = len(tokenPrefix) + 2*tokenIDBytes + 1 + 2*tokenSecretLen
)

// Session ids are 32 random bytes, base64url without padding in the cookie;
// only their SHA-256 is stored, so reading the database does not yield a
// usable session.
const (
	sessionIDBytes = 32
	sessionIDLen   = 43 // base64.RawURLEncoding.EncodedLen(32)
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand.Read panics if the OS cannot provide)
	return b
}

// newToken returns a fresh token id, its secret, and the token text shown
// once to its owner.
func newToken() (id string, secret []byte, text string) {
	id = hex.EncodeToString(randomBytes(tokenIDBytes))
	secret = randomBytes(tokenSecretLen)
	return id, secret, tokenPrefix + id + "_" + hex.EncodeToString(secret)
}

// parseToken splits an API token into its id and secret. It rejects anything
// not exactly of the issued shape (lower-case hex, fixed lengths).
func parseToken(s string) (id string, secret []byte, err error) {
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok || len(s) != tokenLen {
		return "", nil, fmt.Errorf("%w: not a vgt_ token", ErrInvalidToken)
	}
	id, sec, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 2*tokenIDBytes || !isLowerHex(id) || !isLowerHex(sec) {
		return "", nil, fmt.Errorf("%w: malformed vgt_ token", ErrInvalidToken)
	}
	secret, err = hex.DecodeString(sec)
	if err != nil || len(secret) != tokenSecretLen {
		return "", nil, fmt.Errorf("%w: malformed vgt_ token", ErrInvalidToken)
	}
	return id, secret, nil
}

// validTokenID reports whether s could be a token id (for URL parameters).
func validTokenID(s string) bool { return len(s) == 2*tokenIDBytes && isLowerHex(s) }

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newSessionID returns a fresh session id as it goes in the cookie.
func newSessionID() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(sessionIDBytes))
}

// parseSessionID returns the stored key (SHA-256) of a session cookie value,
// rejecting values that are not a session id.
func parseSessionID(s string) ([]byte, error) {
	if len(s) != sessionIDLen {
		return nil, fmt.Errorf("%w: malformed session cookie", ErrInvalidToken)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(raw) != sessionIDBytes {
		return nil, fmt.Errorf("%w: malformed session cookie", ErrInvalidToken)
	}
	return digest(raw), nil
}

func digest(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// bearer extracts the credential of an Authorization header value. The scheme
// is case-insensitive (RFC 9110); anything but "Bearer <credential>" is
// rejected.
func bearer(header string) (string, error) {
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: Authorization must be \"Bearer <token>\"", ErrInvalidToken)
	}
	cred = strings.TrimSpace(cred)
	if cred == "" || strings.ContainsAny(cred, " \t") {
		return "", fmt.Errorf("%w: Authorization must be \"Bearer <token>\"", ErrInvalidToken)
	}
	return cred, nil
}
