package verify

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
)

// TestBuildInputFillsConsistently checks that no placeholder survives, that Secrets carry data
// (not stringData) and that the CA ConfigMap and the serving Secret come from one bundle.
func TestBuildInputFillsConsistently(t *testing.T) {
	st, err := config.FromFile(filepath.Join("..", "..", "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	in, err := BuildInput(p, now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(in.YAML), "<<computed:") {
		t.Fatal("placeholder left in translator input")
	}
	if strings.Contains(string(in.YAML), "kind: Deployment") {
		t.Error("Deployment sent to the translator")
	}
	if !in.EnableBackend {
		t.Error("dev plan has an insecure backend: EnableBackend must be true")
	}
	secret := in.Objects["Secret/apps/internal-api-tls"]
	cm := in.Objects["ConfigMap/apps/internal-api-ca"]
	if secret == nil || cm == nil {
		t.Fatalf("missing objects; have %d", len(in.Objects))
	}
	if _, ok := secret["stringData"]; ok {
		t.Fatal("stringData not folded into data")
	}
	crt, err := base64.StdEncoding.DecodeString(secret["data"].(map[string]any)["tls.crt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	ca := cm["data"].(map[string]any)["ca.crt"].(string)
	if err := pki.Verify(ca, string(crt), "internal-api.apps.svc", now); err != nil {
		t.Fatalf("serving certificate does not verify against the ConfigMap CA: %v", err)
	}
}

func TestCombine(t *testing.T) {
	for _, c := range []struct {
		xds, ir []Effective
		want    Effective
	}{
		{nil, nil, EffectiveNone},
		{[]Effective{EffectiveCA}, []Effective{EffectiveCA}, EffectiveCA},
		{[]Effective{EffectiveCA}, []Effective{EffectiveOtherCA}, EffectiveOtherCA},
		{[]Effective{EffectiveSystem}, []Effective{EffectiveInsecure}, EffectiveMixed},
		{[]Effective{EffectivePlain}, nil, EffectiveMixed},
	} {
		if got := combine(c.xds, c.ir); got != c.want {
			t.Errorf("combine(%v, %v) = %s, want %s", c.xds, c.ir, got, c.want)
		}
	}
}
