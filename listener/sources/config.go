package sources

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Types lists the source types a sources file may name.
var Types = []string{"mastodon", "bluesky", "x", "meta", "rss", "foursquare", "radar", "location-webhook", "replay", "demo"}

// nameRE is the shape of a source name: it appears in URLs (/hooks/{name}),
// metric labels and cursor names.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// File is a parsed sources file.
type File struct {
	// Path is where the file was read from ("" when parsed from memory).
	Path    string
	Sources []SourceConfig
}

// SourceConfig is one source of a sources file. Settings are decoded by the
// source's Factory with Decode; secrets are already resolved from the
// environment.
type SourceConfig struct {
	// Type is one of Types.
	Type string
	// Name is unique in the file: 1-32 lower-case letters, digits, '_', '.'
	// or '-'.
	Name string
	// Enabled says whether the source runs at start (default true).
	Enabled bool
	// Line and Column locate the source's entry in the file.
	Line, Column int

	path     string
	settings *yaml.Node
	secrets  map[string]string
}

// LookupFunc reads an environment variable (os.LookupEnv in production).
type LookupFunc func(key string) (string, bool)

// Load reads and validates the sources file at path, resolving secrets from
// the process environment.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sources file: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse validates a sources file held in data. path only labels errors.
// Every mistake found is reported, each as "path:line:col: message".
func Parse(path string, data []byte, lookup LookupFunc) (*File, error) {
	if path == "" {
		path = "sources"
	}
	p := parser{path: path, lookup: lookup}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := &File{Path: path}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil // an empty file: no sources
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, p.errorf(root, "expected a mapping with a 'sources' list")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "sources":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue
			}
			if v.Kind != yaml.SequenceNode {
				p.add(v, "sources: expected a list")
				continue
			}
			seen := map[string]*yaml.Node{}
			for _, n := range v.Content {
				sc, ok := p.source(n)
				if !ok {
					continue
				}
				if prev, dup := seen[sc.Name]; dup {
					p.add(n, fmt.Sprintf("name %q: already used at line %d", sc.Name, prev.Line))
					continue
				}
				seen[sc.Name] = n
				f.Sources = append(f.Sources, sc)
			}
		default:
			p.add(k, fmt.Sprintf("unknown key %q (want 'sources')", k.Value))
		}
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return f, nil
}

type parser struct {
	path   string
	lookup LookupFunc
	errs   []error
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	return &PositionError{Path: p.path, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) add(n *yaml.Node, msg string) { p.errs = append(p.errs, p.errorf(n, "%s", msg)) }

// PositionError is a mistake in a sources file, with where it is.
type PositionError struct {
	Path         string
	Line, Column int
	Msg          string
}

func (e *PositionError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
}

func (p *parser) source(n *yaml.Node) (SourceConfig, bool) {
	sc := SourceConfig{Enabled: true, Line: n.Line, Column: n.Column, path: p.path}
	if n.Kind != yaml.MappingNode {
		p.add(n, "source: expected a mapping with type, name, enabled, settings, secrets")
		return sc, false
	}
	before := len(p.errs)
	var typeNode, nameNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "type":
			typeNode = v
			sc.Type = v.Value
		case "name":
			nameNode = v
			sc.Name = v.Value
		case "enabled":
			if err := v.Decode(&sc.Enabled); err != nil {
				p.add(v, "enabled: expected true or false")
			}
		case "settings":
			if v.Kind != yaml.MappingNode && v.Tag != "!!null" {
				p.add(v, "settings: expected a mapping")
				continue
			}
			sc.settings = v
		case "secrets":
			sc.secrets = p.secrets(v)
		default:
			p.add(k, fmt.Sprintf("unknown key %q (want type, name, enabled, settings, secrets)", k.Value))
		}
	}
	switch {
	case typeNode == nil:
		p.add(n, "type: required")
	case !knownType(sc.Type):
		p.add(typeNode, fmt.Sprintf("type: %q is not one of %s", sc.Type, strings.Join(Types, ", ")))
	}
	switch {
	case nameNode == nil:
		p.add(n, "name: required")
	case !nameRE.MatchString(sc.Name):
		p.add(nameNode, fmt.Sprintf("name: %q must be 1-32 lower-case letters, digits, '_', '.' or '-'", sc.Name))
	}
	return sc, len(p.errs) == before
}

// secrets resolves a mapping of secret key → environment variable name. The
// variable may hold the secret, or VAR_FILE may name a file holding it.
func (p *parser) secrets(n *yaml.Node) map[string]string {
	out := map[string]string{}
	if n.Tag == "!!null" {
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, "secrets: expected a mapping of secret name to environment variable name")
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			p.add(v, fmt.Sprintf("secrets.%s: expected the name of an environment variable", k.Value))
			continue
		}
		val, err := resolveSecret(v.Value, p.lookup)
		if err != nil {
			p.add(v, fmt.Sprintf("secrets.%s: %v", k.Value, err))
			continue
		}
		out[k.Value] = val
	}
	return out
}

func resolveSecret(env string, lookup LookupFunc) (string, error) {
	if v, ok := lookup(env); ok && v != "" {
		return v, nil
	}
	if path, ok := lookup(env + "_FILE"); ok && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read %s_FILE: %w", env, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("%s_FILE %q is empty", env, path)
		}
		return v, nil
	}
	return "", fmt.Errorf("neither %s nor %s_FILE is set", env, env)
}

func knownType(t string) bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Secret returns the resolved secret called key, or an error naming the
// source when the sources file gave none.
func (c SourceConfig) Secret(key string) (string, error) {
	if v, ok := c.secrets[key]; ok {
		return v, nil
	}
	return "", fmt.Errorf("%s:%d:%d: source %q: secrets.%s: required", c.path, c.Line, c.Column, c.Name, key)
}

// OptionalSecret returns the secret called key, or "" when none was given.
func (c SourceConfig) OptionalSecret(key string) string { return c.secrets[key] }

// Decode decodes the source's settings into v, a pointer to a struct with
// yaml tags. A setting v has no field for is an error, with its position.
// No settings leaves v untouched.
func (c SourceConfig) Decode(v any) error {
	if c.settings == nil || c.settings.Kind != yaml.MappingNode {
		return nil
	}
	known := yamlKeys(v)
	var errs []error
	for i := 0; i+1 < len(c.settings.Content); i += 2 {
		k := c.settings.Content[i]
		if known != nil && !known[k.Value] {
			errs = append(errs, &PositionError{Path: c.path, Line: k.Line, Column: k.Column,
				Msg: fmt.Sprintf("source %q: unknown setting %q", c.Name, k.Value)})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := c.settings.Decode(v); err != nil {
		return fmt.Errorf("%s: source %q: settings: %w", c.path, c.Name, err)
	}
	return nil
}

// Errorf returns an error located at the source's entry in the file.
func (c SourceConfig) Errorf(format string, args ...any) error {
	return &PositionError{Path: c.path, Line: c.Line, Column: c.Column,
		Msg: fmt.Sprintf("source %q: ", c.Name) + fmt.Sprintf(format, args...)}
}

// yamlKeys returns the keys a struct accepts from YAML, or nil when v is not
// a pointer to a struct.
func yamlKeys(v any) map[string]bool {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	t = t.Elem()
	keys := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys[name] = true
	}
	return keys
}

// NewSourceConfig builds a SourceConfig in code (tests, cmd flags): settings
// is YAML text for the settings mapping, secrets are given resolved.
func NewSourceConfig(typ, name, settings string, secrets map[string]string) (SourceConfig, error) {
	sc := SourceConfig{Type: typ, Name: name, Enabled: true, path: "inline", secrets: secrets}
	if !knownType(typ) {
		return sc, fmt.Errorf("type %q is not one of %s", typ, strings.Join(Types, ", "))
	}
	if !nameRE.MatchString(name) {
		return sc, fmt.Errorf("name %q must be 1-32 lower-case letters, digits, '_', '.' or '-'", name)
	}
	if strings.TrimSpace(settings) != "" {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(settings), &doc); err != nil {
			return sc, fmt.Errorf("settings: %w", err)
		}
		if len(doc.Content) == 1 {
			if doc.Content[0].Kind != yaml.MappingNode {
				return sc, errors.New("settings: expected a mapping")
			}
			sc.settings = doc.Content[0]
		}
	}
	return sc, nil
}
