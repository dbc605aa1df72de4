package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/infra/program"
	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/render"
	"github.com/upstream-tls/upstream-tls/internal/spec"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// stackFile writes a as the `config:` section of a stack file, one product key per section of
// the arguments, rendering into renderDir.
func stackFile(a spec.Args, renderDir string) ([]byte, error) {
	raw, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	var sections map[string]any
	if err := json.Unmarshal(raw, &sections); err != nil {
		return nil, err
	}
	cfg := map[string]any{config.Namespace + ":" + config.KeyRenderDir: renderDir}
	for k, v := range sections {
		cfg[config.Namespace+":"+k] = v
	}
	return yaml.Marshal(map[string]any{"config": cfg})
}

// offline points a configuration's install sources at the offline inputs (so that a valid
// configuration previews without a network) and gives an EKS path an identity that needs no
// AWS plugin. Neither changes what validation decides about the rest.
func offline(a spec.Args, root string) spec.Args {
	if a.EnvoyGateway == nil {
		a.EnvoyGateway = &spec.EnvoyGatewayArgs{}
	}
	eg := *a.EnvoyGateway
	eg.ChartDir = filepath.Join(root, "out", "offline", "charts")
	eg.GatewayAPICRDs = filepath.Join(root, "out", "offline", "gateway-api-crds")
	a.EnvoyGateway = &eg
	if a.EKS != nil && a.EKS.Enabled {
		e := *a.EKS
		c := spec.LBCArgs{}
		if e.Controller != nil {
			c = *e.Controller
		}
		c.ChartDir = filepath.Join(root, "out", "offline", "charts")
		c.CRDs = []string{filepath.Join(root, "out", "offline", "lbc-crds")}
		e.Controller = &c
		e.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityExisting}
		a.EKS = &e
	}
	return a
}

type agreementCase struct {
	name   string
	file   []byte
	secret bool
}

// agreementCases are every bad-input table entry (Envoy Gateway and EKS), every golden
// configuration and every reader refusal, as stack files.
func agreementCases(t *testing.T, renderDir string) []agreementCase {
	root := repoRoot()
	var out []agreementCase
	add := func(name string, a spec.Args) {
		f, err := stackFile(offline(a, root), renderDir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, agreementCase{name: name, file: f})
	}
	for _, bi := range testutil.BadInputs() {
		a := testutil.BaseArgs(testutil.Backend("api", spec.ModeCA))
		bi.Mutate(&a)
		add("bad input: "+bi.Name, a)
	}
	for _, bi := range testutil.EKSBadInputs() {
		a := testutil.EKSBaseArgs()
		bi.Mutate(&a)
		add("bad EKS input: "+bi.Name, a)
	}
	golden, err := testutil.Golden(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range golden {
		add("golden: "+c.Name, c.Args)
	}
	for _, rr := range testutil.ReaderRefusals() {
		f := strings.Replace(rr.File, "config:\n", "config:\n  upstream-tls:renderDir: "+renderDir+"\n", 1)
		out = append(out, agreementCase{name: "reader: " + rr.Name, file: []byte(f), secret: strings.Contains(rr.File, "secure:")})
	}
	return out
}

var spaces = regexp.MustCompile(`\s+`)

// squash collapses white space, so that the engine's indentation of multi-line errors does not
// count.
func squash(s string) string { return spaces.ReplaceAllString(strings.TrimSpace(s), " ") }

// TestRenderAndPreviewAgree: `make render`'s reader and plan (render.Stack) and the real
// engine's `pulumi preview` of the program give every configuration the same verdict and, for
// the invalid ones, the same message: every bad-input table entry, every golden configuration
// and every reader refusal, each written as a stack file.
func TestRenderAndPreviewAgree(t *testing.T) {
	const workers = 2
	type worker struct {
		dir, file, salt string
		stack           auto.Stack
	}
	base := t.TempDir()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "agreement-test")
	project, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	project = regexp.MustCompile(`(?m)^main:.*\n?`).ReplaceAll(project, nil)
	var ws []*worker
	for i := range workers {
		dir := filepath.Join(base, fmt.Sprint(i))
		if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644); err != nil {
			t.Fatal(err)
		}
		w := &worker{dir: dir, file: filepath.Join(dir, "Pulumi.agree.yaml")}
		if err := os.WriteFile(w.file, []byte("config: {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		prog := program.New(program.Options{Root: repoRoot(), StackFile: w.file})
		w.stack, err = auto.UpsertStackInlineSource(context.Background(), "agree", config.Namespace, prog, auto.WorkDir(dir),
			auto.EnvVars(map[string]string{"PULUMI_BACKEND_URL": "file://" + filepath.Join(dir, "state")}))
		if err != nil {
			t.Fatal(err)
		}
		// The CLI writes the passphrase's salt into a stack file that lacks one, re-encoding the
		// whole file; a user's stack file has it from `pulumi stack init`. Every case keeps it.
		raw, err := os.ReadFile(w.file)
		if err != nil {
			t.Fatal(err)
		}
		if m := regexp.MustCompile(`(?m)^encryptionsalt:.*$`).Find(raw); m != nil {
			w.salt = string(m) + "\n"
		} else {
			t.Fatal("stack init wrote no encryption salt")
		}
		ws = append(ws, w)
	}
	cases := agreementCases(t, filepath.Join(base, "rendered"))
	jobs := make(chan agreementCase)
	var mu sync.Mutex
	refused, accepted := 0, 0
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				if err := os.WriteFile(w.file, append([]byte(w.salt), c.file...), 0o644); err != nil {
					t.Error(err)
					continue
				}
				renderErr := render.Stack(w.file, filepath.Join(w.dir, "render-out"), io.Discard, io.Discard)
				res, previewErr := w.stack.Preview(context.Background())
				out := res.StdOut + res.StdErr
				if previewErr != nil {
					out += previewErr.Error()
				}
				mu.Lock()
				switch {
				case renderErr == nil && previewErr == nil:
					accepted++
				case renderErr == nil:
					t.Errorf("%s: make render accepts it, pulumi preview fails:\n%s", c.name, out)
				case previewErr == nil:
					t.Errorf("%s: pulumi preview accepts it, make render refuses it: %v", c.name, renderErr)
				case c.secret:
					// Both refuse; the engine refuses ciphertext it cannot decrypt in its own words,
					// while make render, which has no passphrase, refuses every encrypted product key.
					refused++
				default:
					refused++
					want := squash(renderErr.Error())
					// The renderer names the file it read; the engine's own loader errors name it
					// as the CLI sees it.
					want = strings.TrimPrefix(want, w.file+": ")
					if !strings.Contains(squash(out), want) {
						t.Errorf("%s: the messages differ\nmake render:    %s\npulumi preview: %s", c.name, want, squash(out))
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, c := range cases {
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d configurations: %d accepted by both, %d refused by both with the same message", len(cases), accepted, refused)
}
