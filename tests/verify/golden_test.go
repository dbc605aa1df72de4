package verify_test

import (
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/spec"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// external reports whether a plan references objects that only a cluster has (an existing
// Service, a listener Secret or a CA ConfigMap or Secret given by name), which the offline translator
// cannot see.
func external(a spec.Args) bool {
	if a.Gateway != nil {
		if c := a.Gateway.BackendClientCertificate; c != nil && c.Secret != "" {
			return true
		}
		for _, l := range a.Gateway.Listeners {
			if l.CertificateSecret != "" {
				return true
			}
		}
	}
	for _, b := range a.Backends {
		if (b.Service != nil && b.Service.Existing) || (b.TLS.CA != nil && (b.TLS.CA.ConfigMap != "" || b.TLS.CA.Secret != "")) ||
			(b.TLS.ClientCertificate != nil && b.TLS.ClientCertificate.Secret != "") {
			return true
		}
	}
	return false
}

// TestGoldenCases runs the translator tier over every valid golden case. Self-contained cases
// must verify OK; cases that reference cluster-only objects must be reported, since the
// translator cannot find those objects (a dangling reference is exactly what it should catch).
func TestGoldenCases(t *testing.T) {
	golden, err := testutil.Golden(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range golden {
		if c.Err != nil {
			continue // the invalid cases never reach a cluster
		}
		t.Run(c.Name, func(t *testing.T) {
			rep := run(t, c.Plan)
			for _, r := range rep.Results {
				t.Logf("%s", r)
			}
			switch {
			case external(c.Args) && rep.OK():
				t.Error("references to cluster-only objects were not reported")
			case !external(c.Args) && !rep.OK():
				t.Errorf("self-contained case does not verify: %v", rep.Conditions)
			}
		})
	}
}
