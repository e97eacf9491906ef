package router

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/vigie/vigie/listener"
)

// A rules file is YAML:
//
//	default_queue: general
//	rules:
//	  - name: spam
//	    match: '"free followers" OR "crypto giveaway"'   # keyword query
//	    then: {drop: true}
//	  - name: angry-influencers
//	    if: 'sentiment < -0.3 && followers >= 10000'    # condition (expr)
//	    then: {queue: vip, priority: urgent, tags: [influencer]}
//	  - name: tag-refunds
//	    match: 'refund* OR rembours*'
//	    then: {tags: [refund]}
//	    continue: true
//
// Rules are evaluated in order. A rule matches when its keyword query (match)
// and its condition (if) both hold; a rule with neither always matches. A
// matched rule applies its actions and stops the evaluation unless it says
// continue: true. Tags accumulate, the highest priority wins, the last queue
// set wins, and drop stops at once. When no matched rule sets a queue, the
// mention goes to default_queue.
//
// Conditions are expr-lang expressions over the fields of Env.

// Env is what a rule's condition can read.
type Env struct {
	Sentiment  float64  `expr:"sentiment"`
	Label      string   `expr:"label"`
	Intent     string   `expr:"intent"`
	Influence  int      `expr:"influence"`
	Followers  int64    `expr:"followers"`
	Lang       string   `expr:"lang"`
	Source     string   `expr:"source"`
	Verified   bool     `expr:"verified"`
	IsReply    bool     `expr:"is_reply"`
	HasGeo     bool     `expr:"has_geo"`
	TextLength int      `expr:"text_length"`
	Tags       []string `expr:"tags"`
}

func (e *Env) value(name string) string {
	switch name {
	case "sentiment":
		return strconv.FormatFloat(e.Sentiment, 'f', 2, 64)
	case "label":
		return e.Label
	case "intent":
		return e.Intent
	case "influence":
		return strconv.Itoa(e.Influence)
	case "followers":
		return strconv.FormatInt(e.Followers, 10)
	case "lang":
		return e.Lang
	case "source":
		return e.Source
	case "verified":
		return strconv.FormatBool(e.Verified)
	case "is_reply":
		return strconv.FormatBool(e.IsReply)
	case "has_geo":
		return strconv.FormatBool(e.HasGeo)
	case "text_length":
		return strconv.Itoa(e.TextLength)
	case "tags":
		return "[" + strings.Join(e.Tags, ",") + "]"
	}
	return "?"
}

// Actions are what a matched rule does.
type Actions struct {
	Queue    string   `yaml:"queue" json:"queue,omitempty"`
	Priority Priority `yaml:"priority" json:"priority,omitempty"`
	Tags     []string `yaml:"tags" json:"tags,omitempty"`
	Drop     bool     `yaml:"drop" json:"drop,omitempty"`
	// Skill is what an agent needs to take the ticket.
	Skill string `yaml:"skill" json:"skill,omitempty"`
	// Alert raises an e-reputation alert of this name.
	Alert string `yaml:"alert" json:"alert,omitempty"`
	// AutoReply names a macro sent at once as an automatic acknowledgement
	// (it does not count as a first response).
	AutoReply string `yaml:"auto_reply" json:"auto_reply,omitempty"`
}

// Rule is one parsed rule.
type Rule struct {
	Name     string
	Match    *Query
	If       string
	Then     Actions
	Continue bool

	cond   *vm.Program
	idents []string
}

// RuleSet is a parsed rules file. It is immutable and safe for concurrent
// use.
type RuleSet struct {
	DefaultQueue string
	Rules        []*Rule
	// Source is the YAML the set was parsed from.
	Source []byte

	filter *prefilter
}

// RulesError is a mistake in a rules file, with its position.
type RulesError struct {
	Line, Column int
	Rule         string
	Msg          string
}

func (e *RulesError) Error() string {
	where := fmt.Sprintf("line %d, column %d", e.Line, e.Column)
	if e.Rule != "" {
		where += fmt.Sprintf(" (rule %q)", e.Rule)
	}
	return where + ": " + e.Msg
}

// ErrNoRules is returned when a rules file has no rules key.
var ErrNoRules = errors.New("rules file has no 'rules' list")

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

type yamlRule struct {
	Name     string  `yaml:"name"`
	Match    string  `yaml:"match"`
	If       string  `yaml:"if"`
	Then     Actions `yaml:"then"`
	Continue bool    `yaml:"continue"`
}

// LoadRules reads and parses a rules file.
func LoadRules(path string) (*RuleSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	rs, err := ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	return rs, nil
}

// ParseRules parses a rules file. Every error names its line and column.
func ParseRules(src []byte) (*RuleSet, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, yamlError(err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &RulesError{Line: 1, Column: 1, Msg: "expected a mapping with 'rules' and 'default_queue'"}
	}
	top := doc.Content[0]
	rs := &RuleSet{DefaultQueue: "general", Source: slices.Clone(src)}
	var rulesNode *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch k.Value {
		case "default_queue":
			if !namePattern.MatchString(v.Value) {
				return nil, &RulesError{Line: v.Line, Column: v.Column, Msg: "default_queue: a name of letters, digits, '.', '_' or '-'"}
			}
			rs.DefaultQueue = v.Value
		case "rules":
			rulesNode = v
		default:
			return nil, &RulesError{Line: k.Line, Column: k.Column, Msg: fmt.Sprintf("unknown key %q (want default_queue, rules)", k.Value)}
		}
	}
	if rulesNode == nil {
		return nil, ErrNoRules
	}
	if rulesNode.Kind != yaml.SequenceNode {
		return nil, &RulesError{Line: rulesNode.Line, Column: rulesNode.Column, Msg: "rules: expected a list"}
	}
	names := map[string]int{}
	for _, rn := range rulesNode.Content {
		r, err := parseRule(rn)
		if err != nil {
			return nil, err
		}
		if line, dup := names[r.Name]; dup {
			return nil, &RulesError{Line: rn.Line, Column: rn.Column, Rule: r.Name, Msg: fmt.Sprintf("name already used by the rule at line %d", line)}
		}
		names[r.Name] = rn.Line
		rs.Rules = append(rs.Rules, r)
	}
	rs.filter = newPrefilter(rs.Rules)
	return rs, nil
}

func parseRule(n *yaml.Node) (*Rule, error) {
	if n.Kind != yaml.MappingNode {
		return nil, &RulesError{Line: n.Line, Column: n.Column, Msg: "a rule is a mapping with name, match, if, then, continue"}
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		switch k.Value {
		case "name", "match", "if", "then", "continue":
			fields[k.Value] = n.Content[i+1]
		default:
			return nil, &RulesError{Line: k.Line, Column: k.Column, Msg: fmt.Sprintf("unknown key %q (want name, match, if, then, continue)", k.Value)}
		}
	}
	var y yamlRule
	dec := func(key string, v any) error {
		node, ok := fields[key]
		if !ok {
			return nil
		}
		if err := node.Decode(v); err != nil {
			return &RulesError{Line: node.Line, Column: node.Column, Rule: y.Name, Msg: key + ": " + strings.TrimPrefix(yamlError(err).Error(), "yaml: ")}
		}
		return nil
	}
	for _, k := range []string{"name", "match", "if", "continue"} {
		var target any
		switch k {
		case "name":
			target = &y.Name
		case "match":
			target = &y.Match
		case "if":
			target = &y.If
		case "continue":
			target = &y.Continue
		}
		if err := dec(k, target); err != nil {
			return nil, err
		}
	}
	if !namePattern.MatchString(y.Name) {
		return nil, &RulesError{Line: n.Line, Column: n.Column, Msg: "name: required, 1-64 letters, digits, '.', '_' or '-'"}
	}
	if tn, ok := fields["then"]; ok {
		if tn.Kind != yaml.MappingNode {
			return nil, &RulesError{Line: tn.Line, Column: tn.Column, Rule: y.Name, Msg: "then: expected a mapping of actions"}
		}
		for i := 0; i+1 < len(tn.Content); i += 2 {
			switch k := tn.Content[i]; k.Value {
			case "queue", "priority", "tags", "drop", "skill", "alert", "auto_reply":
			default:
				return nil, &RulesError{Line: k.Line, Column: k.Column, Rule: y.Name, Msg: fmt.Sprintf("then: unknown action %q (want queue, priority, tags, drop, skill, alert, auto_reply)", k.Value)}
			}
		}
		if err := dec("then", &y.Then); err != nil {
			return nil, err
		}
	} else {
		return nil, &RulesError{Line: n.Line, Column: n.Column, Rule: y.Name, Msg: "then: required"}
	}
	r := &Rule{Name: y.Name, If: y.If, Then: y.Then, Continue: y.Continue}
	if y.Then.Priority != "" && !y.Then.Priority.Valid() {
		tn := fields["then"]
		return nil, &RulesError{Line: tn.Line, Column: tn.Column, Rule: y.Name, Msg: fmt.Sprintf("priority %q: want low, normal, high or urgent", y.Then.Priority)}
	}
	for _, f := range []struct{ name, v string }{{"skill", y.Then.Skill}, {"alert", y.Then.Alert}, {"auto_reply", y.Then.AutoReply}} {
		if f.v != "" && !namePattern.MatchString(f.v) {
			tn := fields["then"]
			return nil, &RulesError{Line: tn.Line, Column: tn.Column, Rule: y.Name, Msg: fmt.Sprintf("%s %q: a name of letters, digits, '.', '_' or '-'", f.name, f.v)}
		}
	}
	if y.Then.Queue != "" && !namePattern.MatchString(y.Then.Queue) {
		tn := fields["then"]
		return nil, &RulesError{Line: tn.Line, Column: tn.Column, Rule: y.Name, Msg: fmt.Sprintf("queue %q: a name of letters, digits, '.', '_' or '-'", y.Then.Queue)}
	}
	if y.Match != "" {
		q, err := ParseQuery(y.Match)
		if err != nil {
			mn := fields["match"]
			var qe *QueryError
			col := mn.Column
			if errors.As(err, &qe) && mn.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
				col += qe.Column // the opening quote takes a column
			} else if qe != nil {
				col += qe.Column - 1
			}
			msg := err.Error()
			if qe != nil {
				msg = qe.Msg
			}
			return nil, &RulesError{Line: mn.Line, Column: col, Rule: y.Name, Msg: "match: " + msg}
		}
		r.Match = q
	}
	if y.If != "" {
		prog, err := expr.Compile(y.If, expr.Env(Env{}), expr.AsBool())
		if err != nil {
			in := fields["if"]
			line, col := in.Line, in.Column
			var fe *file.Error
			if errors.As(err, &fe) {
				line += fe.Line - 1
				if fe.Line <= 1 {
					col += fe.Column
					if in.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
						col++
					}
				}
				return nil, &RulesError{Line: line, Column: col, Rule: y.Name, Msg: "if: " + fe.Message}
			}
			return nil, &RulesError{Line: line, Column: col, Rule: y.Name, Msg: "if: " + err.Error()}
		}
		r.cond = prog
		r.idents = identifiers(prog.Node())
	}
	return r, nil
}

// identifiers lists the Env fields an expression reads, for the trace.
func identifiers(root ast.Node) []string {
	var v identVisitor
	ast.Walk(&root, &v)
	slices.Sort(v.names)
	return slices.Compact(v.names)
}

type identVisitor struct{ names []string }

func (v *identVisitor) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok {
		v.names = append(v.names, id.Value)
	}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &RulesError{Line: line, Column: 1, Msg: msg}
	}
	return &RulesError{Line: 1, Column: 1, Msg: msg}
}

// Evaluate decides where a mention goes, with a trace.
func (rs *RuleSet) Evaluate(m *listener.Mention, en *Enrichment) Decision {
	doc := NewDoc(m, en)
	env := Env{
		Sentiment: en.Sentiment, Label: en.Label, Intent: en.Intent, Influence: en.Influence,
		Followers: m.Author.Followers, Lang: en.Lang, Source: m.Source, Verified: m.Author.Verified,
		IsReply: m.ReplyTo != "", HasGeo: m.Geo != nil, TextLength: len([]rune(m.Text)),
	}
	d := Decision{Priority: PriorityNormal, Trace: []Step{}}
	each(rs.filter.candidates(doc.Tokens), func(i int) bool {
		return rs.apply(rs.Rules[i], doc, &env, &d)
	})
	if d.Drop {
		return d
	}
	if d.Queue == "" {
		d.Queue = rs.DefaultQueue
		d.Trace = append(d.Trace, Step{Rule: "default", Matched: true, Why: "no rule chose a queue: default queue " + rs.DefaultQueue})
	}
	return d
}

// apply evaluates one rule and applies its actions when it matches. It
// returns false when the evaluation must stop.
func (rs *RuleSet) apply(r *Rule, doc *Doc, env *Env, d *Decision) bool {
	var why []string
	if r.Match != nil {
		ok, hits := r.Match.Match(doc)
		if !ok {
			return true // not about this: no line in the trace
		}
		why = append(why, "matched "+strings.Join(hits, ", "))
	}
	if r.cond != nil {
		env.Tags = d.Tags
		out, err := expr.Run(r.cond, env)
		vals := make([]string, 0, len(r.idents))
		for _, id := range r.idents {
			vals = append(vals, id+"="+env.value(id))
		}
		if err != nil {
			d.Trace = append(d.Trace, Step{Rule: r.Name, Matched: false, Why: "condition failed: " + err.Error()})
			return true
		}
		if b, _ := out.(bool); !b {
			// Only a near miss is worth a line: the words matched but the
			// condition did not hold.
			if r.Match != nil {
				d.Trace = append(d.Trace, Step{Rule: r.Name, Matched: false, Why: strings.Join(append(why, "but "+r.If+" is false ("+strings.Join(vals, ", ")+")"), "; ")})
			}
			return true
		}
		why = append(why, r.If+" ("+strings.Join(vals, ", ")+")")
	}
	if len(why) == 0 {
		why = append(why, "applies to every mention")
	}
	d.Trace = append(d.Trace, Step{Rule: r.Name, Matched: true, Why: strings.Join(why, "; ")})
	for _, t := range r.Then.Tags {
		if !slices.Contains(d.Tags, t) {
			d.Tags = append(d.Tags, t)
		}
	}
	if r.Then.Priority != "" && r.Then.Priority.Rank() > d.Priority.Rank() {
		d.Priority = r.Then.Priority
	}
	if r.Then.Queue != "" {
		d.Queue, d.Rule = r.Then.Queue, r.Name
	}
	if r.Then.Skill != "" {
		d.Skill = r.Then.Skill
	}
	if r.Then.Alert != "" && !slices.Contains(d.Alerts, r.Then.Alert) {
		d.Alerts = append(d.Alerts, r.Then.Alert)
	}
	if r.Then.AutoReply != "" {
		d.AutoReply = r.Then.AutoReply
	}
	if r.Then.Drop {
		d.Drop, d.Rule = true, r.Name
		return false
	}
	return r.Continue
}

// Queues lists the queues the rule set can route to, default first.
func (rs *RuleSet) Queues() []string {
	out := []string{rs.DefaultQueue}
	for _, r := range rs.Rules {
		if r.Then.Queue != "" && !slices.Contains(out, r.Then.Queue) {
			out = append(out, r.Then.Queue)
		}
	}
	return out
}

// NewDoc prepares a mention for keyword matching.
func NewDoc(m *listener.Mention, en *Enrichment) *Doc {
	lang := m.Lang
	if en != nil && en.Lang != "" {
		lang = en.Lang
	}
	return &Doc{
		Tokens: Tokenize(m.Text),
		Fields: map[string]string{
			"source": strings.ToLower(m.Source),
			"lang":   strings.ToLower(lang),
			"author": strings.ToLower(m.Author.Handle + " " + m.Author.ID),
		},
	}
}
