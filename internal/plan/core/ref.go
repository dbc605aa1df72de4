package core

import (
	"fmt"
	"strings"
)

// Source says who computes a referenced value.
type Source string

const (
	// SourceCertificate is a generated CertificateBundle (the upstream-tls provider).
	SourceCertificate Source = "certificate"
	// SourceIAM is an AWS IAM resource of the EKS path.
	SourceIAM Source = "iam"
)

// Certificate fields a Ref can name (SourceCertificate).
const (
	FieldCACert = "caCert"
	FieldCert   = "cert"
	FieldKey    = "key"
)

// Ref names one value that only the engine knows: field Field of the resource Name of kind
// Source, for example the key of the generated certificate `backend-api`. Field is empty when
// the resource has one value (the IAM role ARN).
type Ref struct {
	Source Source
	Name   string
	Field  string
}

// CertRef is the Ref of field of the generated certificate named cert.
func CertRef(cert, field string) Ref { return Ref{Source: SourceCertificate, Name: cert, Field: field} }

// RoleARNRef is the Ref of the ARN of the AWS Load Balancer Controller's IAM role.
var RoleARNRef = Ref{Source: SourceIAM, Name: "controllerRoleArn"}

// String is the display text that stands for the value in renders and golden files:
// `<<computed:SOURCE/NAME/FIELD>>` (`<<computed:SOURCE/NAME>>` without a field). It is display
// only: nothing parses it back.
func (r Ref) String() string {
	s := "<<computed:" + string(r.Source) + "/" + r.Name
	if r.Field != "" {
		s += "/" + r.Field
	}
	return s + ">>"
}

// Secret reports whether the value is secret material (a private key).
func (r Ref) Secret() bool { return r.Source == SourceCertificate && r.Field == FieldKey }

// Binding places a Ref at Path, a path of keys into the object as a JSON map (render.ToMap) or
// into a Helm release's values.
type Binding struct {
	Path []string
	Ref  Ref
}

// Bind is a Binding of ref at path.
func Bind(ref Ref, path ...string) Binding { return Binding{Path: path, Ref: ref} }

// Resolve replaces, in m, the value at every binding's path by resolve(binding.Ref). The value
// found there must be the Ref's display text (what the plan put there); anything else means the
// object and its bindings disagree, which is an error. No other value of m is looked at.
func Resolve(m map[string]any, bindings []Binding, resolve func(Ref) (any, error)) error {
	for _, b := range bindings {
		if len(b.Path) == 0 {
			return fmt.Errorf("binding of %s has an empty path", b.Ref)
		}
		parent := m
		for _, k := range b.Path[:len(b.Path)-1] {
			next, ok := parent[k].(map[string]any)
			if !ok {
				return fmt.Errorf("binding of %s: no object at %s", b.Ref, strings.Join(b.Path, "."))
			}
			parent = next
		}
		last := b.Path[len(b.Path)-1]
		if got, _ := parent[last].(string); got != b.Ref.String() {
			return fmt.Errorf("binding of %s: %s holds %q, not its display text", b.Ref, strings.Join(b.Path, "."), got)
		}
		v, err := resolve(b.Ref)
		if err != nil {
			return fmt.Errorf("%s: %w", strings.Join(b.Path, "."), err)
		}
		parent[last] = v
	}
	return nil
}
