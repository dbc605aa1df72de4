package testutil

import (
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/internal/pki"
)

// CertificateToken is the upstream-tls provider's CertificateBundle type.
const CertificateToken = "upstream-tls:index:CertificateBundle"

// Registered is one resource a program registered with Pulumi's mock monitor.
type Registered struct {
	Type, Name, Parent string
	Custom             bool
	Inputs             resource.PropertyMap
	Outputs            resource.PropertyMap
	Deps               []string
	// Aliases are "name|parentURN" for alias specs, or the aliased URN.
	Aliases []string
	// RetainOnDelete is the resource's retainOnDelete option as registered (the engine passes
	// it on to children that do not set their own).
	RetainOnDelete bool
}

// Mocks records registrations for pulumi.WithMocks. CertificateBundle resources get real
// generated material (the provider's job in a real run), so tests can verify chains end to end.
type Mocks struct {
	mu  sync.Mutex
	all []Registered
}

// NewResource implements pulumi.MockResourceMonitor.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	out := args.Inputs.Copy()
	switch args.TypeToken {
	case "aws:iam/role:Role", "aws:iam/policy:Policy":
		// AWS computes ARNs; the mock gives the ones AWS would.
		kind := strings.ToLower(args.TypeToken[strings.LastIndex(args.TypeToken, ":")+1:])
		out["arn"] = resource.NewStringProperty("arn:aws:iam::111122223333:" + kind + "/" + args.Inputs["name"].StringValue())
	}
	if args.TypeToken == CertificateToken {
		var names []string
		for _, v := range args.Inputs["dnsNames"].ArrayValue() {
			names = append(names, v.StringValue())
		}
		req := pki.Request{CommonName: args.Inputs["commonName"].StringValue(), DNSNames: names, WithCA: args.Inputs["withCa"].BoolValue()}
		if u, ok := args.Inputs["usage"]; ok {
			req.Usage = pki.Usage(u.StringValue())
		}
		b, err := pki.Generate(req, time.Now())
		if err != nil {
			return "", nil, err
		}
		out["caCertPem"] = resource.NewStringProperty(b.CACertPEM)
		out["certPem"] = resource.NewStringProperty(b.CertPEM)
		out["keyPem"] = resource.NewStringProperty(b.KeyPEM)
		out["notAfter"] = resource.NewStringProperty(b.NotAfter.Format(time.RFC3339))
	}
	r := Registered{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs, Outputs: out}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Deps = rpc.GetDependencies()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
		for _, a := range rpc.GetAliases() {
			if spec := a.GetSpec(); spec != nil {
				r.Aliases = append(r.Aliases, spec.GetName()+"|"+spec.GetParentUrn())
			} else {
				r.Aliases = append(r.Aliases, a.GetUrn())
			}
		}
	}
	m.mu.Lock()
	m.all = append(m.all, r)
	m.mu.Unlock()
	return args.Name + "-id", out, nil
}

// Call implements pulumi.MockResourceMonitor.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return args.Args, nil
}

// All returns every registration so far.
func (m *Mocks) All() []Registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Registered(nil), m.all...)
}

// Find returns the registration of type typ named name, or nil.
func (m *Mocks) Find(typ, name string) *Registered {
	for _, r := range m.All() {
		if r.Type == typ && r.Name == name {
			return &r
		}
	}
	return nil
}

// First returns the first registration of type typ, or nil.
func (m *Mocks) First(typ string) *Registered {
	for _, r := range m.All() {
		if r.Type == typ {
			return &r
		}
	}
	return nil
}

// DependsOn reports whether r lists a dependency on a resource of type typ named name.
func (r *Registered) DependsOn(typ, name string) bool {
	for _, d := range r.Deps {
		if strings.HasSuffix(d, typ+"::"+name) {
			return true
		}
	}
	return false
}

// IsSecret reports whether v is secret (directly or as a secret output).
func IsSecret(v resource.PropertyValue) bool {
	return v.IsSecret() || (v.IsOutput() && v.OutputValue().Secret)
}

// Named returns the registration named name (any type), or nil.
func (m *Mocks) Named(name string) *Registered {
	for _, r := range m.All() {
		if r.Name == name {
			return &r
		}
	}
	return nil
}

// Plain unwraps secrets and outputs into plain Go values (numbers as float64), and reports
// whether any was secret.
func Plain(v resource.PropertyValue) (any, bool) {
	switch {
	case v.IsSecret():
		p, _ := Plain(v.SecretValue().Element)
		return p, true
	case v.IsOutput():
		p, s := Plain(v.OutputValue().Element)
		return p, s || v.OutputValue().Secret
	case v.IsObject():
		m := map[string]any{}
		secret := false
		for k, e := range v.ObjectValue() {
			p, s := Plain(e)
			m[string(k)] = p
			secret = secret || s
		}
		return m, secret
	case v.IsArray():
		var a []any
		secret := false
		for _, e := range v.ArrayValue() {
			p, s := Plain(e)
			a = append(a, p)
			secret = secret || s
		}
		return a, secret
	case v.IsNumber():
		return v.NumberValue(), false
	}
	return v.Mappable(), false
}

// Normalise turns ints into float64, recursively, as JSON numbers compare.
func Normalise(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = Normalise(e)
		}
	case []any:
		for i, e := range t {
			t[i] = Normalise(e)
		}
	case int:
		return float64(t)
	case int64:
		return float64(t)
	}
	return v
}

// Await collects the value of an output after pulumi.RunErr: register it inside the program,
// call Wait after RunErr returns.
type Await[T any] struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	val T
}

// Watch records the output's value when it resolves.
func (a *Await[T]) Watch(o pulumi.Output) {
	a.wg.Add(1)
	o.ApplyT(func(v T) T {
		a.mu.Lock()
		a.val = v
		a.mu.Unlock()
		a.wg.Done()
		return v
	})
}

// Wait returns the value once it resolved.
func (a *Await[T]) Wait() T {
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.val
}
