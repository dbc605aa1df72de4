package verify

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
)

// TestPlainTextToATLSPortIsNamed holds plainToTLS to what a real Go TLS server (the echo
// server's HTTPS port is one) answers a plain-text request with, and the judge to calling such
// an answer a plain-text hop whatever the posture says.
func TestPlainTextToATLSPortIsNamed(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "{}") }))
	defer srv.Close()
	resp, err := http.Get("http://" + srv.Listener.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), plainToTLS) {
		t.Fatalf("a Go TLS server answers a plain-text request with %q (status %d), not %q", body, resp.StatusCode, plainToTLS)
	}

	for _, c := range []struct {
		eff  core.Effective
		want string
	}{
		{core.EffectiveCA, "the posture says ca but Envoy reached the backend in plain text"},
		{core.EffectivePlain, "Envoy sends plain text to a port that serves TLS"},
	} {
		w := Wire{Backend: "b", Status: resp.StatusCode, PlainToTLSPort: true}
		w.judge(envoy.Backend{Name: "b", Posture: envoy.Posture{Effective: c.eff}})
		if w.OK() || len(w.Problems) != 1 || w.Problems[0] != c.want {
			t.Errorf("posture %s, plain text to the TLS port: problems %q, want [%q]", c.eff, w.Problems, c.want)
		}
		if !strings.Contains(w.String(), "tls=plain-to-tls") {
			t.Errorf("the wire line does not say plain-to-tls: %s", w)
		}
	}
}
