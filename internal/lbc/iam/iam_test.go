package iam

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestDocumentIsTheEmbeddedPolicy: Document is compact, stable, and semantically the embedded
// upstream file; it keeps the encoding earlier versions sent to IAM, so no policy resource
// changes on upgrade.
func TestDocumentIsTheEmbeddedPolicy(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(doc, "\n\t") || !strings.HasPrefix(doc, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole"]`) {
		t.Errorf("Document() is not the compact encoding: %.120s", doc)
	}
	var got, want any
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(Raw(), &want); err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Error("Document() differs from the embedded iam_policy.json")
	}
}

func TestActions(t *testing.T) {
	actions, err := Actions()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(actions) || len(slices.Compact(slices.Clone(actions))) != len(actions) {
		t.Errorf("Actions() is not sorted and unique: %v", actions)
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
	statements, err := Statements()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statements {
		for _, a := range s.Action {
			if _, ok := slices.BinarySearch(actions, a); !ok {
				t.Errorf("Actions() lacks %q", a)
			}
		}
	}
}
