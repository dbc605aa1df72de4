// Package generate_test holds the regeneration checks: every generated or copied file the
// repository commits is exactly what its pinned generator or source produces.
package generate_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/lbc/iam"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// TestIAMPolicyIsTheUpstreamFile: the embedded LBC IAM policy is byte for byte the
// docs/install/iam_policy.json of the pinned controller module (make generate copies it).
func TestIAMPolicyIsTheUpstreamFile(t *testing.T) {
	dir, err := testutil.ModuleDir(iam.Module)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(iam.Path)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(iam.Raw(), want) {
		t.Errorf("internal/lbc/iam/iam_policy.json differs from %s: run `make generate`", iam.Source)
	}
}

// TestSchemaDocsUpToDate: provider/zz_docs.go is what docgen makes of the doc comments of
// internal/spec and components/upstreamtls (`make generate`).
func TestSchemaDocsUpToDate(t *testing.T) {
	root := testutil.MustRepoRoot()
	out := filepath.Join(t.TempDir(), "zz_docs.go")
	cmd := exec.Command("go", "run", "./internal/spec/docgen", "-out", out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docgen: %v\n%s", err, b)
	}
	got, _ := os.ReadFile(out)
	want, err := os.ReadFile(filepath.Join(root, "provider", "zz_docs.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("provider/zz_docs.go is out of date: run `make generate` and commit the result")
	}
}
