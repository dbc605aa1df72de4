// Package iam holds the IAM policy that the AWS Load Balancer Controller documents for itself:
// iam_policy.json is docs/install/iam_policy.json of the module pinned in Source, embedded as
// is. `make generate` copies it from the module cache; tests/generate compares the committed
// copy with the pinned module's file byte for byte.
package iam

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// Module and Path locate the pinned upstream document: the module proxy serves the
// controller's repository only at this pseudo-version (its version.txt says 3.2.2); the v3.5.0
// chart comes from eks-charts.
const (
	Module = "sigs.k8s.io/aws-load-balancer-controller@v0.0.0-20260423195125-93ff3b5fdaad"
	Path   = "docs/install/iam_policy.json"
)

// Source names the document: "<module>@<version> <path>".
const Source = Module + " " + Path

//go:embed iam_policy.json
var policyJSON []byte

// Statement is one statement of the policy, in the shape the upstream document uses.
type Statement struct {
	// Effect is "Allow" or "Deny".
	Effect string `json:"Effect"`
	// Action lists the actions the statement covers.
	Action []string `json:"Action"`
	// Resource is a string or a list of ARN patterns.
	Resource any `json:"Resource"`
	// Condition maps a condition operator (StringEquals, Null, ...) to condition keys and
	// their values; a value is a string or a list of strings.
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

type document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

var parsed = sync.OnceValues(func() (document, error) {
	var d document
	dec := json.NewDecoder(bytes.NewReader(policyJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return document{}, fmt.Errorf("iam: embedded %s: %w", Path, err)
	}
	return d, nil
})

var compact = sync.OnceValues(func() (string, error) {
	d, err := parsed()
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return "", fmt.Errorf("iam: encode policy: %w", err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n"))), nil
})

// Document returns the policy document as compact JSON,
// {"Version":"2012-10-17","Statement":[...]}, statements in upstream order. The encoding is
// stable: the IAM policy resource's input never changes while the pinned document does not.
func Document() (string, error) { return compact() }

// Raw returns the embedded document exactly as upstream ships it.
func Raw() []byte { return slices.Clone(policyJSON) }

// Statements returns the document's statements, in upstream order.
func Statements() ([]Statement, error) {
	d, err := parsed()
	return slices.Clone(d.Statement), err
}

// Actions returns every action the document names, sorted and without duplicates.
func Actions() ([]string, error) {
	d, err := parsed()
	if err != nil {
		return nil, err
	}
	var all []string
	for _, s := range d.Statement {
		all = append(all, s.Action...)
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}
