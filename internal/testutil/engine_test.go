package testutil

import "testing"

func TestMatchPlanned(t *testing.T) {
	planned := map[string]any{"spec": map[string]any{"port": 443, "ca": "x", "hosts": []any{"a"}}}
	same := map[string]any{"spec": map[string]any{"port": 443.0, "ca": "-----BEGIN CERTIFICATE-----", "hosts": []any{"a"}, "extra": true}}
	computed := map[string]bool{"o.spec.ca": true}
	var problems []string
	MatchPlanned(planned, same, "o", computed, &problems)
	if len(problems) != 0 {
		t.Errorf("equal objects reported: %v", problems)
	}
	differ := map[string]any{"spec": map[string]any{"port": 8443, "ca": "not pem", "hosts": []any{"a", "b"}}}
	problems = nil
	MatchPlanned(planned, differ, "o", computed, &problems)
	if len(problems) != 3 {
		t.Errorf("want the port, the computed CA and the host list reported, got %v", problems)
	}
}
