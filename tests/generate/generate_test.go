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

// TestSDKsUpToDate: sdk/ is exactly what the pinned generators (tools/sdkgen, tools/sdkgen-dotnet,
// built by scripts/tools.sh) make of the committed schema.json; nobody edited it by hand.
func TestSDKsUpToDate(t *testing.T) {
	root := testutil.MustRepoRoot()
	bin, err := testutil.Tools(root, "sdkgen", "sdkgen-dotnet")
	if err != nil {
		t.Fatal(err)
	}
	schema := filepath.Join(root, "provider", "cmd", "pulumi-resource-upstream-tls", "schema.json")
	out := t.TempDir()
	for _, cmd := range []*exec.Cmd{
		exec.Command(filepath.Join(bin, "sdkgen"), "-schema", schema, "-out", out, "-lang", "nodejs,python,go"),
		exec.Command(filepath.Join(bin, "sdkgen-dotnet"), "-schema", schema, "-out", filepath.Join(out, "dotnet")),
	} {
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd.Path, err, b)
		}
	}
	want := tree(t, filepath.Join(root, "sdk"))
	got := tree(t, out)
	for name, content := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("sdk/%s is committed but not generated", name)
		} else if !bytes.Equal(g, content) {
			t.Errorf("sdk/%s differs from what the generator makes of schema.json: run `make generate`", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("sdk/%s is generated but not committed: run `make generate`", name)
		}
	}
}

// tree reads every file below dir, by slash path relative to dir.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		b, err := os.ReadFile(path)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
