package main

import (
	"encoding/json"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIConverts fails loudly when the embedded YAML does not parse
// or does not convert to JSON: the server would answer 500.
func TestOpenAPIConverts(t *testing.T) {
	if openAPIErr != nil {
		t.Fatalf("cmd/vigie/openapi.yaml: %v", openAPIErr)
	}
	if !json.Valid(openAPIJSON) {
		t.Fatal("the converted document is not valid JSON")
	}
	for name, tc := range map[string]struct {
		yaml, want string
	}{
		"syntax":         {"openapi: [3.1.0\n", "openapi.yaml: yaml:"},
		"integer key":    {"paths:\n  /x:\n    get:\n      responses:\n        200: {description: ok}\n", "key 200 is a int"},
		"boolean key":    {"true: 1\n", "key true is a bool"},
		"alias expanded": {"a: &x {b: 1}\nc: *x\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := openAPIToJSON([]byte(tc.yaml))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want == "" && string(out) != `{"a":{"b":1},"c":{"b":1}}`:
				t.Fatalf("got %s", out)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// operation is the part of an OpenAPI operation the tests read.
type operation struct {
	Summary     string                    `json:"summary"`
	Description string                    `json:"description"`
	OperationID string                    `json:"operationId"`
	Permission  string                    `json:"x-vigie-permission"`
	Security    *[]map[string][]string    `json:"security"`
	Parameters  []map[string]any          `json:"parameters"`
	Responses   map[string]map[string]any `json:"responses"`
	RequestBody map[string]any            `json:"requestBody"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// documentedRoute reports whether an echo route belongs to the contract:
// the API, the websocket, the webhooks and the operations endpoints (not
// the web interface's pages and assets, nor echo's not-found routes).
func documentedRoute(method, path string) bool {
	if method == "echo_route_not_found" || strings.HasSuffix(path, "/*") {
		return false
	}
	switch path {
	case "/ws", "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(path, "/api/v1/") || strings.HasPrefix(path, "/hooks/")
}

var echoParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

// openAPIPath writes an echo path the OpenAPI way: /tickets/:id becomes
// /tickets/{id}.
func openAPIPath(echoPath string) string { return echoParam.ReplaceAllString(echoPath, "{$1}") }

// TestOpenAPIMatchesRoutes fetches the served document and checks it
// against the running server's routes both ways, against the authorization
// matrix of authz_test.go, and for its own consistency: the document can
// never drift from the server.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	a := startApp(t, t.TempDir())
	resp, err := http.Get(a.url + "/api/v1/openapi.json") // no credential: public
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %d", resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", resp.Header.Get("Content-Type"))
	}
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("decode the document: %v", err)
	}
	checkOpenAPIStructure(t, raw)
	ops := openAPIOperations(t, raw)

	// Every route served is documented with its method.
	served := map[string]string{} // "GET /api/v1/tickets/{id}" → "GET /api/v1/tickets/:id"
	for _, rt := range a.srv.echo.Routes() {
		if !documentedRoute(rt.Method, rt.Path) {
			continue
		}
		key := rt.Method + " " + openAPIPath(rt.Path)
		served[key] = rt.Method + " " + rt.Path
		if strings.HasPrefix(rt.Path, "/hooks/") && rt.Method != http.MethodGet && rt.Method != http.MethodPost {
			continue // echo's Any: the receivers answer GET and POST only
		}
		if _, ok := ops[key]; !ok {
			t.Errorf("route %s is not documented in cmd/vigie/openapi.yaml", key)
		}
	}
	for _, must := range []string{"GET /ws", "GET /healthz", "GET /readyz", "GET /metrics", "GET /hooks/{name}", "POST /hooks/{name}", "GET /api/v1/openapi.json"} {
		if _, ok := served[must]; !ok {
			t.Errorf("the server has no route %s", must)
		}
	}

	// Every documented operation is served, and says who may call it.
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		op := ops[key]
		echoKey, ok := served[key]
		if !ok {
			t.Errorf("%s is documented but the server has no such route", key)
			continue
		}
		want := wantPermission(echoKey)
		if want == "" {
			t.Errorf("%s is in no authorization matrix of authz_test.go", key)
			continue
		}
		if op.Permission != want {
			t.Errorf("%s: x-vigie-permission %q, want %q (authz_test.go)", key, op.Permission, want)
		}
		if !strings.Contains(op.Description, "Permission: `"+want+"`") {
			t.Errorf("%s: the description does not say \"Permission: `%s`\"", key, want)
		}
		method, _, _ := strings.Cut(key, " ")
		checkSecurity(t, key, method, want, op)
	}
}

// wantPermission returns what x-vigie-permission must say for an echo
// route key ("POST /api/v1/tickets/:id/reply"), from authz_test.go.
func wantPermission(echoKey string) string {
	switch {
	case publicRoutes[echoKey], strings.Contains(echoKey, " /hooks/"):
		return "public"
	case anyUserRoutes[echoKey]:
		return "authenticated"
	}
	if p, ok := routePermissions[echoKey]; ok {
		return string(p)
	}
	return ""
}

// checkSecurity checks an operation's security requirements: none on a
// public route; a bearer token or the session cookie elsewhere, with the
// CSRF header alongside the cookie on unsafe methods.
func checkSecurity(t *testing.T, key, method, perm string, op operation) {
	t.Helper()
	if perm == "public" {
		if op.Security == nil || len(*op.Security) != 0 {
			t.Errorf("%s is public: it must say security: []", key)
		}
		return
	}
	if op.Security != nil && len(*op.Security) == 0 {
		t.Errorf("%s needs a credential but says security: []", key)
		return
	}
	if op.Security == nil {
		// The document's default: bearer or cookie, no CSRF header.
		if method != http.MethodGet && method != http.MethodHead {
			t.Errorf("%s: an unsafe method must list the CSRF header with the session cookie", key)
		}
		return
	}
	var bearer, cookie, csrf bool
	for _, req := range *op.Security {
		_, b := req["bearerAuth"]
		_, c := req["sessionCookie"]
		_, x := req["csrfToken"]
		bearer = bearer || b && len(req) == 1
		if c {
			cookie, csrf = true, x
		}
	}
	unsafe := method != http.MethodGet && method != http.MethodHead
	if !bearer || !cookie || csrf != unsafe {
		t.Errorf("%s: security %v: want bearerAuth, or sessionCookie%s", key, *op.Security, map[bool]string{true: " with csrfToken", false: " alone"}[unsafe])
	}
}

// openAPIOperations returns the document's operations by "METHOD /path",
// after checking each one's own consistency.
func openAPIOperations(t *testing.T, doc map[string]any) map[string]operation {
	t.Helper()
	paths, _ := doc["paths"].(map[string]any)
	ops := map[string]operation{}
	ids := map[string]string{}
	for path, item := range paths {
		itemMap, ok := item.(map[string]any)
		if !ok {
			t.Errorf("paths[%q] is not an object", path)
			continue
		}
		pathParams := paramNames(t, doc, itemMap["parameters"], "path")
		for m, raw := range itemMap {
			if m == "parameters" || m == "summary" || m == "description" {
				continue
			}
			if !slices.Contains(httpMethods, m) {
				t.Errorf("paths[%q]: %q is no HTTP method", path, m)
				continue
			}
			key := strings.ToUpper(m) + " " + path
			b, _ := json.Marshal(raw)
			var op operation
			if err := json.Unmarshal(b, &op); err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			ops[key] = op
			if op.Summary == "" {
				t.Errorf("%s has no summary", key)
			}
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", key)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %q", prev, key, op.OperationID)
			} else {
				ids[op.OperationID] = key
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s has no responses", key)
			}
			ok2xx := false
			for code := range op.Responses {
				if !regexp.MustCompile(`^[1-5][0-9][0-9]$`).MatchString(code) {
					t.Errorf("%s: response code %q", key, code)
				}
				ok2xx = ok2xx || code[0] == '1' || code[0] == '2'
			}
			if !ok2xx {
				t.Errorf("%s documents no success response", key)
			}
			var opParams []any
			for _, p := range op.Parameters {
				opParams = append(opParams, p)
			}
			declared := paramNames(t, doc, opParams, "path")
			for n := range pathParams {
				declared[n] = true
			}
			inPath := map[string]bool{}
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
				inPath[m[1]] = true
				if !declared[m[1]] {
					t.Errorf("%s: path parameter %q is not declared", key, m[1])
				}
			}
			for n := range declared {
				if !inPath[n] {
					t.Errorf("%s: declares path parameter %q that the path lacks", key, n)
				}
			}
		}
	}
	if len(ops) == 0 {
		t.Fatal("the document has no operations")
	}
	return ops
}

// paramNames returns the names of the parameters in list (resolving
// $refs) that are in "in", checking that path parameters are required.
func paramNames(t *testing.T, doc map[string]any, list any, in string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	items, _ := list.([]any)
	for _, it := range items {
		p, _ := it.(map[string]any)
		if ref, ok := p["$ref"].(string); ok {
			r, err := resolveRef(doc, ref)
			if err != nil {
				continue // reported by checkOpenAPIStructure
			}
			p, _ = r.(map[string]any)
		}
		if p["in"] != in {
			continue
		}
		name, _ := p["name"].(string)
		if in == "path" && p["required"] != true {
			t.Errorf("path parameter %q must be required", name)
		}
		out[name] = true
	}
	return out
}

// checkOpenAPIStructure checks the basics of an OpenAPI 3.1 document: its
// version, info, paths, that every $ref resolves, and that security
// requirements name declared schemes.
func checkOpenAPIStructure(t *testing.T, doc map[string]any) {
	t.Helper()
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	for _, f := range []string{"title", "version"} {
		if s, _ := info[f].(string); s == "" {
			t.Errorf("info.%s is missing", f)
		}
	}
	paths, _ := doc["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatal("no paths")
	}
	for p := range paths {
		if !strings.HasPrefix(p, "/") || strings.Contains(p, ":") {
			t.Errorf("path %q: must start with / and use {param}", p)
		}
	}
	comps, _ := doc["components"].(map[string]any)
	schemes, _ := comps["securitySchemes"].(map[string]any)
	refs := 0
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if e == nil {
					// YAML reads "{description: a, b}" as a key "b" without a
					// value: quote flow scalars that hold commas.
					t.Errorf("%s/%s is null: an unquoted comma in a flow mapping?", where, k)
				}
				if k == "$ref" {
					refs++
					ref, _ := e.(string)
					if _, err := resolveRef(doc, ref); err != nil {
						t.Errorf("%s: $ref %q: %v", where, ref, err)
					}
					continue
				}
				if k == "security" && !strings.Contains(where, "/properties") {
					reqs, _ := e.([]any)
					for _, r := range reqs {
						rm, _ := r.(map[string]any)
						for name := range rm {
							if _, ok := schemes[name]; !ok {
								t.Errorf("%s: security scheme %q is not declared", where, name)
							}
						}
					}
				}
				walk(e, where+"/"+k)
			}
		case []any:
			for _, e := range v {
				walk(e, where)
			}
		}
	}
	walk(doc, "#")
	if refs == 0 {
		t.Error("no $ref at all: the walk found nothing to check")
	}
}

// resolveRef follows a local JSON pointer ("#/components/schemas/Ticket").
func resolveRef(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, errRef("not a local reference")
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, errRef("cannot descend into " + tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, errRef("no " + tok)
		}
	}
	return cur, nil
}

type errRef string

func (e errRef) Error() string { return string(e) }
