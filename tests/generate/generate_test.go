// Package generate checks that generated code committed to the repository is
// up to date with its generators.
package generate

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCRDsUpToDate regenerates crds/ into a temporary directory with
// scripts/generate-crds.sh and fails if the result differs from the
// committed crds/ in any file. The first run on a machine builds the
// generator (several minutes); later runs reuse the cached binary.
func TestCRDsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates crds/; skipped in -short mode")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "crds")
	got := filepath.Join(t.TempDir(), "crds")

	cmd := exec.Command("bash", filepath.Join(root, "scripts", "generate-crds.sh"), got)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/generate-crds.sh failed: %v\n%s", err, out)
	}

	wantFiles, gotFiles := readTree(t, want), readTree(t, got)
	var added, removed, changed []string
	for name, data := range gotFiles {
		old, ok := wantFiles[name]
		switch {
		case !ok:
			added = append(added, name)
		case !bytes.Equal(old, data):
			changed = append(changed, name+firstDiff(old, data))
		}
	}
	for name := range wantFiles {
		if _, ok := gotFiles[name]; !ok {
			removed = append(removed, name)
		}
	}
	if len(added)+len(removed)+len(changed) == 0 {
		return
	}
	var msg strings.Builder
	msg.WriteString("crds/ is out of date: run `make generate` (scripts/generate-crds.sh) and commit the result.\n")
	for _, s := range []struct {
		title string
		names []string
	}{
		{"missing from crds/ (would be added)", added},
		{"not generated any more (would be removed)", removed},
		{"changed", changed},
	} {
		if len(s.names) == 0 {
			continue
		}
		sort.Strings(s.names)
		fmt.Fprintf(&msg, "%s: %d file(s)\n", s.title, len(s.names))
		for _, n := range s.names {
			fmt.Fprintf(&msg, "  crds/%s\n", n)
		}
	}
	t.Error(msg.String())
}

// readTree returns the regular files under dir keyed by slash-separated
// relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// firstDiff describes the first differing line of two file versions.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			return fmt.Sprintf(" (line %d: committed %.100q, generated %.100q)", i+1, wl, gl)
		}
	}
	return ""
}
