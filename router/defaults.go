package router

import _ "embed"

//go:embed default_rules.yaml
var defaultRules []byte

// DefaultRules returns the rules that ship with the binary (for the demo
// brand).
func DefaultRules() *RuleSet {
	rs, err := ParseRules(defaultRules)
	if err != nil {
		panic("router: the embedded default rules do not parse: " + err.Error())
	}
	return rs
}

// DefaultRulesYAML returns the text of the rules that ship with the binary.
func DefaultRulesYAML() []byte { return append([]byte(nil), defaultRules...) }
