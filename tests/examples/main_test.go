// Package examples_test runs the multi-language examples (examples/<language>) through the real
// Pulumi engine, offline: the pinned pulumi CLI and Kubernetes provider plugin (render mode) and
// this checkout's upstream-tls provider plugin, from scripts/pulumi-env.sh (TestMain), plus each
// language's own tools from scripts/example-tools.sh, built into the shared tool cache on first
// use. Every test has its own temporary directory and file backend. A missing tool fails the
// test; nothing is skipped.
//
//   - yaml_test.go: examples/yaml under pulumi-language-yaml (preview, up, no-change up,
//     destroy; a production configuration refused at preview);
//   - typescript_test.go: examples/typescript type-checked with tsc against the generated SDK
//     (and a broken copy refused), then run as an inline Automation API program;
//   - python_test.go: examples/python run through the Python Automation API against the
//     generated SDK in the tool cache's virtual environment (up, no-change up, destroy; a
//     production configuration refused);
//   - csharp_test.go: examples/csharp and sdk/dotnet parsed with tree-sitter-c-sharp (C# cannot
//     be compiled here: no NuGet feed serves Pulumi), a broken file reported with its line and
//     column, every SDK type and property the example uses checked against the generated SDK,
//     and UpstreamTls.Infra.sln checked against the projects it names;
//   - compare_test.go: the objects each language renders equal those the Go stack program
//     (infra/program) renders for Pulumi.dev.yaml; also the helpers the tests share.
package examples_test

import (
	"os"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// env is the environment scripts/pulumi-env.sh sets up (tools built on first use).
var env []string

func repoRoot() string { return testutil.MustRepoRoot() }

func TestMain(m *testing.M) {
	var err error
	if env, err = testutil.PulumiEnv(repoRoot()); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
