// Package validate is fwaudit's one rule validator (gitleaks' Validate
// model), a test-only package: its test loads every rule of every rule set
// (credentials, programs, services, transport, tokens, components, the
// code-matched rules of rules/builtin) and runs each rule's true examples
// through the real analyzer code path — a file in an image tree, the
// analyzer's Analyze — expecting a finding of that rule (with the rule
// data's guidelines), and its false examples expecting none. The rules
// matched in code (rules/builtin) run the same way through the analyzer
// their source names, each example's content placed at its image path
// (or, unpack: true, a whole image unpacked by extract); a builtin rule
// without examples must say why (examples: "none: <reason>"). It also
// checks that rule ids are unique across all sets, and that a rule added
// in a user's rule folder (analyzers/rulesets, fwaudit scan --rules DIR)
// fires through the analyzer: adding a rule is writing YAML.
//
// It lives outside the rule packages so that it can import the analyzers
// without an import cycle.
package validate
