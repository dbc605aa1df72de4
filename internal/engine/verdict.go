package engine

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// verdictTimedOut is the Kubernetes provider's message when an object's pulumi.com/waitFor
// conditions did not hold within its pulumi.com/timeoutSeconds.
const verdictTimedOut = "failed to fully initialize or become live: timed out waiting for the condition"

// verdictWaits collects, from the engine's progress output of one update, the routes whose wait
// for Envoy Gateway's verdict timed out (see internal/plan/envoy/verdict.go), so that a failed
// up says what the wait was and what to check, beside the provider's generic message.
//
// It reads the output the user sees (the "Diagnostics:" section, where the engine prints each
// failed resource as `  <type> (<name>):` followed by its messages indented by four spaces),
// not the engine's event stream: asking for the events makes the engine write, and this
// process parse, every resource's whole state once more (the CRDs' megabytes included), about
// 6% of the CPU of a first up of 500 backends (bench/RESULTS.md), for a message needed only
// when an update fails.
type verdictWaits struct {
	mu     sync.Mutex
	routes map[string]bool // "HTTPRoute name"
}

// Writer returns a writer that passes everything to w and reads it for timed-out waits. Each
// output stream needs its own (a writer keeps its partial line and the resource it is in).
func (v *verdictWaits) Writer(w io.Writer) io.Writer { return &verdictScanner{waits: v, out: w} }

// diagnosticsHeader is the line that starts a resource's diagnostics: `  <type> (<name>):`.
var diagnosticsHeader = regexp.MustCompile(`^  (\S+) \((\S+)\):$`)

// ansi matches the terminal colour sequences the engine may put around the header.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

type verdictScanner struct {
	waits   *verdictWaits
	out     io.Writer
	partial []byte
	typ     string // the resource whose diagnostics are being read: its type token and name
	name    string
}

func (s *verdictScanner) Write(p []byte) (int, error) {
	n, err := s.out.Write(p)
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.line(ansi.ReplaceAllString(string(s.partial[:i]), ""))
		s.partial = s.partial[i+1:]
	}
	return n, err
}

func (s *verdictScanner) line(l string) {
	l = strings.TrimRight(l, " \r")
	if m := diagnosticsHeader.FindStringSubmatch(l); m != nil {
		s.typ, s.name = m[1], m[2]
		return
	}
	if l != "" && !strings.HasPrefix(l, "    ") {
		s.typ, s.name = "", ""
		return
	}
	if s.typ == "" || !strings.Contains(l, verdictTimedOut) {
		return
	}
	kind := s.typ[strings.LastIndex(s.typ, ":")+1:]
	if kind != "HTTPRoute" && kind != "GRPCRoute" {
		return
	}
	s.waits.mu.Lock()
	defer s.waits.mu.Unlock()
	if s.waits.routes == nil {
		s.waits.routes = map[string]bool{}
	}
	s.waits.routes[kind+" "+s.name] = true
}

// explain returns what a failed up tells the user about the routes that got no verdict, or "".
func (v *verdictWaits) explain() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.routes) == 0 {
		return ""
	}
	var names []string
	for r := range v.routes {
		names = append(names, r)
	}
	sort.Strings(names)
	return fmt.Sprintf("up: no verdict from Envoy Gateway on %s within envoyGateway.verdictTimeoutSeconds (default 300): "+
		"the up waited for the route's status.parents[0] conditions Accepted=True and ResolvedRefs=True, which the Envoy Gateway controller writes; "+
		"fix: check that the controller runs (the local cluster: make cluster; elsewhere: kubectl -n envoy-gateway-system get pods), "+
		"and if it runs, read the reason it gave in the route's status (kubectl get <route> -o yaml, or make verify STACK=<stack>), then run make up again",
		strings.Join(names, ", "))
}
