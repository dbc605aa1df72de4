// Package render converts planned objects into the plain maps the Kubernetes API (and the
// Pulumi Kubernetes provider) accept, and writes a plan as YAML. The same conversion feeds the
// engine-free render, the Pulumi registration and the verifier, so all of them see identical
// objects.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/internal/lbc/iam"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/eks"
)

// ToMap returns o as the JSON object the API server would receive: server-populated fields
// (status, metadata.creationTimestamp) removed, and null values and empty objects and lists
// pruned so typed Go zero values do not appear as noise. Values only the engine knows hold
// their display text (core.Ref.String()); o.Computed says where.
func ToMap(o core.Object) (map[string]any, error) {
	raw, err := json.Marshal(o.Resource)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", o.Key(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("unmarshal %s: %w", o.Key(), err)
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
func Documents(objs []core.Object) ([]byte, error) {
	var b strings.Builder
	for i, o := range objs {
		m, err := ToMap(o)
		if err != nil {
			return nil, err
		}
		y, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("yaml %s: %w", o.Key(), err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return []byte(b.String()), nil
}

// FileName is the file an object is written to by WriteDir: its resource name plus `.yaml`.
func FileName(o core.Object) string { return o.ResourceName() + ".yaml" }

// Install describes the parts of the plan that are not Kubernetes objects of ours: the CRD
// bundle, the Helm releases with their values, the certificates to generate, and the order in
// which everything is applied. It is written as install.yaml.
type Install struct {
	GatewayAPICRDs *core.CRDBundle     `json:"gatewayAPICRDs,omitempty"`
	HelmReleases   []core.HelmRelease  `json:"helmReleases,omitempty"`
	EnableBackend  bool                `json:"enableBackend"`
	Certificates   []core.Certificate  `json:"generatedCertificates,omitempty"`
	EKS            *EKSInstall         `json:"eks,omitempty"`
	Warnings       []string            `json:"warnings,omitempty"`
	Order          map[string][]string `json:"order"`
}

// EKSInstall is the install part of the EKS path: the AWS resources and what is installed
// before the controller's objects.
type EKSInstall struct {
	ClusterName string            `json:"clusterName"`
	IAM         eks.IAMPlan       `json:"iam"`
	CRDs        *core.CRDBundle   `json:"crds,omitempty"`
	HelmRelease *core.HelmRelease `json:"helmRelease,omitempty"`
}

// IAMPolicyFile is the file WriteDir writes the controller's IAM policy document to (indented).
const IAMPolicyFile = "iam-policy.json"

// InstallYAML renders the install part of p.
func InstallYAML(p *plan.Plan) ([]byte, error) {
	in := Install{
		GatewayAPICRDs: p.GatewayAPICRDs,
		EnableBackend:  p.Envoy.Install.EnableBackend,
		Certificates:   p.AllCertificates(),
		Warnings:       p.Warnings,
		Order:          p.Order(),
	}
	for _, r := range p.Envoy.Install.Releases {
		in.HelmReleases = append(in.HelmReleases, r.HelmRelease)
	}
	if e := p.EKS; e != nil {
		in.EKS = &EKSInstall{ClusterName: e.ClusterName, IAM: e.IAM, CRDs: e.CRDs, HelmRelease: e.Release}
		if in.EKS.IAM.PolicyDocument != "" {
			statements, err := iam.Statements()
			if err != nil {
				return nil, err
			}
			actions, err := iam.Actions()
			if err != nil {
				return nil, err
			}
			// The document is long; renders write it to its own file.
			in.EKS.IAM.PolicyDocument = fmt.Sprintf("%s (%d statements, %d actions, from %s)", IAMPolicyFile, len(statements), len(actions), iam.Source)
		}
	}
	return yaml.Marshal(in)
}

// WriteDir replaces dir with the rendering of p: one file per object, install.yaml (CRDs, Helm
// releases and their values, certificates to generate, order) and posture.txt. Two objects
// with one file name are refused here as a last line of defence; the plan's registry refuses
// them first, naming the fields.
func WriteDir(dir string, p *plan.Plan) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	files := map[string][]byte{}
	for _, o := range p.AllObjects() {
		doc, err := Documents([]core.Object{o})
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
