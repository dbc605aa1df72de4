package plan_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

var (
	testCA        = testutil.TestCA
	backend       = testutil.Backend
	existing      = testutil.Existing
	args          = testutil.BaseArgs
	modeEffective = map[spec.Mode]core.Effective{spec.ModeSystem: core.EffectiveSystem, spec.ModeCA: core.EffectiveCA, spec.ModeInsecure: core.EffectiveInsecure}
)

func TestBuildModes(t *testing.T) {
	for _, tc := range []struct {
		mode       spec.Mode
		verified   bool
		wantKinds  []string
		wantAbsent []string
	}{
		{spec.ModeSystem, true, []string{"Deployment", "Service", "BackendTLSPolicy", "HTTPRoute"}, []string{"Backend", "ConfigMap", "Secret"}},
		{spec.ModeCA, true, []string{"Secret", "Deployment", "Service", "ConfigMap", "BackendTLSPolicy", "HTTPRoute"}, []string{"Backend"}},
		{spec.ModeInsecure, false, []string{"Secret", "Deployment", "Service", "Backend", "HTTPRoute"}, []string{"BackendTLSPolicy", "ConfigMap"}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			p, err := plan.Build(args(backend("api", tc.mode)))
			if err != nil {
				t.Fatal(err)
			}
			be := p.Envoy.Backends[0]
			if be.Verified() != tc.verified || be.Mode != tc.mode {
				t.Errorf("mode %s verified %v, want %s %v", be.Mode, be.Verified(), tc.mode, tc.verified)
			}
			kinds := map[string]bool{}
			for _, o := range be.Objects {
				kinds[o.Kind()] = true
			}
			for _, k := range tc.wantKinds {
				if !kinds[k] {
					t.Errorf("missing %s in %v", k, kinds)
				}
			}
			for _, k := range tc.wantAbsent {
				if kinds[k] {
					t.Errorf("unexpected %s", k)
				}
			}
			if got, want := p.Envoy.Install.EnableBackend, tc.mode == spec.ModeInsecure; got != want {
				t.Errorf("EnableBackend = %v, want %v", got, want)
			}
			want := "api.gateway.svc"
			if tc.mode == spec.ModeSystem {
				want = "api.example.com"
			}
			if be.Hostname != want {
				t.Errorf("hostname %q, want %s", be.Hostname, want)
			}
			if got := be.Posture.Effective; got != modeEffective[tc.mode] || be.Posture.SNI != want {
				t.Errorf("derived posture %+v, want %s with SNI %s", be.Posture, modeEffective[tc.mode], want)
			}
		})
	}
}

func TestEnableBackendExplicit(t *testing.T) {
	on := true
	a := args(backend("api", spec.ModeSystem))
	a.EnvoyGateway.EnableBackend = &on
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Envoy.Install.EnableBackend {
		t.Error("enableBackend: true was ignored")
	}
}

func TestBuildDoesNotMutateInput(t *testing.T) {
	a := args(backend("api", spec.ModeCA))
	if _, err := plan.Build(a); err != nil {
		t.Fatal(err)
	}
	if a.Backends[0].Namespace != "" || a.Gateway.Name != "" || a.Backends[0].TLS.Hostname != "" {
		t.Errorf("Build wrote defaults into its input: %+v", a)
	}
}

func TestProductionAllowInsecureWarns(t *testing.T) {
	a := args(backend("legacy", spec.ModeInsecure))
	a.Environment = spec.EnvironmentProduction
	a.AllowInsecureBackends = true
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "legacy") {
		t.Errorf("warnings = %q, want one about legacy", p.Warnings)
	}
}

// TestBadInput: every invalid configuration fails with the field and the fix, and plans nothing.
func TestBadInput(t *testing.T) {
	for _, tc := range testutil.BadInputs() {
		t.Run(tc.Name, func(t *testing.T) {
			a := args(backend("api", spec.ModeCA))
			tc.Mutate(&a)
			p, err := plan.Build(a)
			if err == nil {
				t.Fatalf("Build succeeded, want an error on %s", tc.Field)
			}
			if p != nil {
				t.Error("a plan was returned with the error")
			}
			requireProblem(t, err, tc.Field, tc.InMessage)
			if !strings.Contains(err.Error(), tc.Field+": ") {
				t.Errorf("message does not name the field: %v", err)
			}
		})
	}
}

// requireProblem fails t unless err is a *core.ValidationError with a problem on field whose
// problem or fix mentions inMessage, and which has a fix.
func requireProblem(t *testing.T, err error, field, inMessage string) {
	t.Helper()
	var verr *core.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %T is not a *core.ValidationError: %v", err, err)
	}
	var found *core.FieldError
	for _, fe := range verr.Problems {
		if fe.Field == field {
			found = fe
		}
	}
	if found == nil {
		t.Fatalf("no problem on field %s; got:\n%v", field, err)
	}
	if !strings.Contains(found.Problem+" "+found.Fix, inMessage) {
		t.Errorf("problem %q (fix %q) does not mention %q", found.Problem, found.Fix, inMessage)
	}
	if found.Fix == "" {
		t.Errorf("problem on %s has no fix", field)
	}
}

// TestBadNameReportedOnce: a name other names are defaulted from is reported on the field the
// user wrote, not again on every defaulted name made from it; a defaulted name whose sources are
// fine is still checked.
func TestBadNameReportedOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(b *spec.BackendArgs)
		want   []string
	}{
		{"upper-case namespace", func(b *spec.BackendArgs) { b.Namespace = "Apps" }, []string{"backends[0].namespace"}},
		{"name too long for a label", func(b *spec.BackendArgs) { b.Name = strings.Repeat("a", 64) }, []string{"backends[0].name"}},
		{"hostname written by the user is checked", func(b *spec.BackendArgs) {
			b.Namespace = "Apps"
			b.TLS.Hostname = "API.example.com"
		}, []string{"backends[0].namespace", "backends[0].tls.hostname"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args(backend("api", spec.ModeCA))
			tc.mutate(&a.Backends[0])
			_, err := plan.Build(a)
			var verr *core.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Build = %v, want a ValidationError", err)
			}
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.Field)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems on %v, want %v\n%v", got, tc.want, err)
			}
		})
	}
}
