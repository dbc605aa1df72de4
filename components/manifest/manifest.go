// Package manifest converts planned objects into the plain maps the Kubernetes API (and the
// Pulumi Kubernetes provider) accept, and writes a plan as YAML. The same conversion feeds the
// engine-free render and the Pulumi components, so both produce identical objects.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/components/lbciam"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

// ToMap returns o as the JSON object the API server would receive: server-populated fields
// (status, metadata.creationTimestamp) removed, and null values and empty objects and lists
// pruned so typed Go zero values do not appear as noise.
func ToMap(o plan.Object) (map[string]any, error) {
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", plan.ObjectKey(o), err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("unmarshal %s: %w", plan.ObjectKey(o), err)
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	pruned, _ := prune(m).(map[string]any)
	return pruned, nil
}

// prune removes nulls, empty maps and empty lists, recursively.
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			p := prune(e)
			if isEmpty(p) {
				delete(t, k)
				continue
			}
			t[k] = p
		}
		return t
	case []any:
		out := t[:0]
		for _, e := range t {
			// Keep list positions stable: an empty element (e.g. `{}`) is meaningful in a list.
			if p := prune(e); p != nil {
				out = append(out, p)
			}
		}
		return out
	default:
		return v
	}
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// Documents renders objects as one multi-document YAML stream, in the given order.
func Documents(objs []plan.Object) ([]byte, error) {
	var b strings.Builder
	for i, o := range objs {
		m, err := ToMap(o)
		if err != nil {
			return nil, err
		}
		y, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("yaml %s: %w", plan.ObjectKey(o), err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return []byte(b.String()), nil
}

// FileName is the file an object is written to by WriteDir: `<kind>-<namespace>-<name>.yaml`,
// lowercase, namespace omitted for cluster-scoped objects.
func FileName(o plan.Object) string {
	parts := []string{strings.ToLower(o.GroupVersionKind().Kind)}
	if o.GetNamespace() != "" {
		parts = append(parts, o.GetNamespace())
	}
	parts = append(parts, o.GetName())
	return strings.Join(parts, "-") + ".yaml"
}

// Install describes the parts of the plan that are not Kubernetes objects of ours: the CRD
// bundle and the Helm releases with their values. It is written as install.yaml.
type Install struct {
	GatewayAPICRDs *plan.CRDBundle    `json:"gatewayAPICRDs,omitempty"`
	HelmReleases   []plan.HelmRelease `json:"helmReleases,omitempty"`
	EnableBackend  bool               `json:"enableBackend"`
	Certificates   []plan.Certificate `json:"generatedCertificates,omitempty"`
	EKS            *EKSInstall        `json:"eks,omitempty"`
	Warnings       []string           `json:"warnings,omitempty"`
}

// EKSInstall is the install part of the EKS path: the AWS resources and what is installed
// before the controller's objects.
type EKSInstall struct {
	ClusterName string            `json:"clusterName"`
	IAM         plan.IAMPlan      `json:"iam"`
	CRDs        *plan.CRDBundle   `json:"crds,omitempty"`
	HelmRelease *plan.HelmRelease `json:"helmRelease,omitempty"`
}

// IAMPolicyFile is the file WriteDir writes the controller's IAM policy document to (indented).
const IAMPolicyFile = "iam-policy.json"

// InstallYAML renders the install part of p.
func InstallYAML(p *plan.Plan) ([]byte, error) {
	in := Install{
		GatewayAPICRDs: p.Install.GatewayAPICRDs,
		HelmReleases:   p.Install.Releases,
		EnableBackend:  p.Install.EnableBackend,
		Certificates:   p.AllCertificates(),
		Warnings:       p.Warnings,
	}
	if e := p.EKS; e != nil {
		in.EKS = &EKSInstall{ClusterName: e.ClusterName, IAM: e.IAM, CRDs: e.CRDs, HelmRelease: e.Release}
		if in.EKS.IAM.PolicyDocument != "" {
			// The document is long; renders write it to its own file.
			in.EKS.IAM.PolicyDocument = fmt.Sprintf("%s (%d statements, %d actions, from %s)",
				IAMPolicyFile, len(lbciam.Statements()), len(lbciam.Actions()), lbciam.Source)
		}
	}
	return yaml.Marshal(in)
}

// WriteDir replaces dir with the rendering of p: one file per object, install.yaml (CRDs, Helm
// releases and their values, certificates to generate) and posture.txt.
func WriteDir(dir string, p *plan.Plan) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	files := map[string][]byte{}
	for _, o := range p.AllObjects() {
		doc, err := Documents([]plan.Object{o})
		if err != nil {
			return err
		}
		name := FileName(o)
		if _, dup := files[name]; dup {
			return fmt.Errorf("two objects render to %s", name)
		}
		files[name] = doc
	}
	install, err := InstallYAML(p)
	if err != nil {
		return fmt.Errorf("render install.yaml: %w", err)
	}
	files["install.yaml"] = install
	if p.EKS != nil && p.EKS.IAM.PolicyDocument != "" {
		var doc bytes.Buffer
		if err := json.Indent(&doc, []byte(p.EKS.IAM.PolicyDocument), "", "  "); err != nil {
			return fmt.Errorf("render %s: %w", IAMPolicyFile, err)
		}
		doc.WriteString("\n")
		files[IAMPolicyFile] = doc.Bytes()
	}
	files["posture.txt"] = []byte(p.Posture())
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", n, err)
		}
	}
	return nil
}
