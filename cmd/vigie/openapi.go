package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// openAPIYAML is the HTTP contract, written by hand from the handlers and
// kept honest by TestOpenAPIMatchesRoutes.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// openAPIJSON is the contract converted once, when the program starts;
// openAPIErr says why it could not be (a test fails on it, so that no
// build ships a broken document).
var openAPIJSON, openAPIErr = openAPIToJSON(openAPIYAML)

// openAPIToJSON converts an OpenAPI document from YAML to JSON. Aliases
// (the YAML anchors reused for security requirements) are expanded; a
// mapping key that is not a string is an error, since JSON has none.
func openAPIToJSON(src []byte) ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	doc, err := jsonValue(doc, "")
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: encode JSON: %w", err)
	}
	return out, nil
}

// jsonValue returns v with every mapping as a map[string]any, which
// encoding/json can write. path names where v is, for errors.
func jsonValue(v any, path string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			conv, err := jsonValue(e, path+"/"+k)
			if err != nil {
				return nil, err
			}
			v[k] = conv
		}
		return v, nil
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%s: key %v is a %T, not a string (quote it)", path, k, k)
			}
			conv, err := jsonValue(e, path+"/"+ks)
			if err != nil {
				return nil, err
			}
			m[ks] = conv
		}
		return m, nil
	case []any:
		for i, e := range v {
			conv, err := jsonValue(e, fmt.Sprintf("%s/%d", path, i))
			if err != nil {
				return nil, err
			}
			v[i] = conv
		}
		return v, nil
	}
	return v, nil
}

// serveOpenAPI answers GET /api/v1/openapi.json: the contract, public.
func serveOpenAPI(c echo.Context) error {
	if openAPIErr != nil {
		return fmt.Errorf("serve the OpenAPI document: %w", openAPIErr)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIJSON)
}
