package generate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/components/lbciam"
)

// TestLBCIAMUpToDate regenerates components/lbciam/policy_gen.go into a temporary file
// with scripts/generate-lbc-iam.sh and fails if it differs from the committed file.
func TestLBCIAMUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads the pinned AWS Load Balancer Controller module; skipped in -short mode")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	const rel = "components/lbciam/policy_gen.go"
	got := filepath.Join(t.TempDir(), "policy_gen.go")
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "generate-lbc-iam.sh"), got)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/generate-lbc-iam.sh failed: %v\n%s", err, out)
	}
	want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	gotData, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, gotData) {
		t.Errorf("%s is out of date: run `make generate` (scripts/generate-lbc-iam.sh) and commit the result.\n%s%s",
			rel, rel, firstDiff(want, gotData))
	}
}

// TestLBCIAMMatchesUpstream decodes the upstream iam_policy.json named by lbciam.Source
// and lbciam.Document() and requires them to be equal as JSON values.
func TestLBCIAMMatchesUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads the pinned AWS Load Balancer Controller module; skipped in -short mode")
	}
	modVersion, path, ok := strings.Cut(lbciam.Source, " ")
	if !ok || !strings.Contains(modVersion, "@") {
		t.Fatalf("lbciam.Source = %q, want \"<module>@<version> <path>\"", lbciam.Source)
	}
	dir := moduleDir(t, modVersion)
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	var upstream, ours any
	if err := json.Unmarshal(data, &upstream); err != nil {
		t.Fatalf("upstream %s: %v", lbciam.Source, err)
	}
	if err := json.Unmarshal([]byte(lbciam.Document()), &ours); err != nil {
		t.Fatalf("lbciam.Document(): %v", err)
	}
	if !reflect.DeepEqual(upstream, ours) {
		t.Errorf("lbciam.Document() differs from %s: run `make generate` (scripts/generate-lbc-iam.sh)\n%s",
			lbciam.Source, jsonDiff(upstream, ours))
	}
}

// jsonDiff describes where two decoded policy documents first differ.
func jsonDiff(upstream, ours any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	u, _ := upstream.(map[string]any)
	o, _ := ours.(map[string]any)
	us, _ := u["Statement"].([]any)
	ls, _ := o["Statement"].([]any)
	if u == nil || o == nil || us == nil || ls == nil || !reflect.DeepEqual(u["Version"], o["Version"]) || len(u) != len(o) {
		return "upstream: " + enc(upstream) + "\nlbciam:   " + enc(ours)
	}
	for i := 0; i < len(us) || i < len(ls); i++ {
		var a, b any
		if i < len(us) {
			a = us[i]
		}
		if i < len(ls) {
			b = ls[i]
		}
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("first difference at Statement[%d] (upstream has %d statements, lbciam %d)\nupstream: %s\nlbciam:   %s",
				i, len(us), len(ls), enc(a), enc(b))
		}
	}
	return "upstream: " + enc(upstream) + "\nlbciam:   " + enc(ours)
}

// moduleDir downloads modVersion ("<module>@<version>") into the module cache, outside any
// module, and returns its directory.
func moduleDir(t *testing.T, modVersion string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil && err == nil {
		err = jerr
	}
	if err != nil || info.Error != "" || info.Dir == "" {
		t.Fatalf("go mod download -json %s: %v %s\n%s%s", modVersion, err, info.Error, out, stderr.Bytes())
	}
	return info.Dir
}
