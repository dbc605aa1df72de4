package lbciam

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDocument(t *testing.T) {
	var doc struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(Document()), &doc); err != nil {
		t.Fatalf("Document() is not valid JSON: %v\n%s", err, Document())
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("Version = %q, want 2012-10-17", doc.Version)
	}
	if len(doc.Statement) != len(statements) || len(doc.Statement) == 0 {
		t.Fatalf("Document() has %d statements, want %d (> 0)", len(doc.Statement), len(statements))
	}
	if strings.ContainsAny(Document(), "\n\t") {
		t.Errorf("Document() is not compact JSON")
	}
	if Document() != Document() {
		t.Errorf("Document() is not stable")
	}
}

// TestStatementShapes checks the invariants the generator promises: Resource and every
// condition value is a string or a non-empty []string.
func TestStatementShapes(t *testing.T) {
	stringOrStrings := func(v any) bool {
		switch v := v.(type) {
		case string:
			return true
		case []string:
			return len(v) > 0
		}
		return false
	}
	for i, s := range statements {
		if s.Effect != "Allow" && s.Effect != "Deny" {
			t.Errorf("statement %d: Effect %q", i, s.Effect)
		}
		if len(s.Action) == 0 {
			t.Errorf("statement %d: no actions", i)
		}
		if !stringOrStrings(s.Resource) {
			t.Errorf("statement %d: Resource is %T", i, s.Resource)
		}
		for op, keys := range s.Condition {
			for k, v := range keys {
				if !stringOrStrings(v) {
					t.Errorf("statement %d: Condition.%s[%q] is %T", i, op, k, v)
				}
			}
		}
	}
}

func TestActions(t *testing.T) {
	actions := Actions()
	if len(actions) == 0 {
		t.Fatal("Actions() is empty")
	}
	if !slices.IsSorted(actions) {
		t.Errorf("Actions() is not sorted: %v", actions)
	}
	if len(slices.Compact(slices.Clone(actions))) != len(actions) {
		t.Errorf("Actions() has duplicates: %v", actions)
	}
	for _, want := range []string{
		"elasticloadbalancing:CreateLoadBalancer",
		"elasticloadbalancing:DescribeListenerAttributes",
		"ec2:GetSecurityGroupsForVpc",
	} {
		if !slices.Contains(actions, want) {
			t.Errorf("Actions() lacks %q", want)
		}
	}
	// Every action of every statement is listed.
	for _, s := range statements {
		for _, a := range s.Action {
			if _, ok := slices.BinarySearch(actions, a); !ok {
				t.Errorf("Actions() lacks %q", a)
			}
		}
	}
	// Callers may modify the result without affecting later calls.
	actions[0] = "x"
	if Actions()[0] == "x" {
		t.Error("Actions() shares its backing array")
	}
}
