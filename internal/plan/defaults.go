package plan

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/eks"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// WithDefaults returns a deep copy of a with every unset field given its documented default:
// first the optional sections and lists that have a default shape, then every `default:"…"`
// tag of spec (ApplyTagDefaults), then the defaults that depend on other fields. It never
// fails; validation happens afterwards on the defaulted copy.
func WithDefaults(a spec.Args) spec.Args {
	out := deepCopy(a)

	// Sections and lists with a default shape.
	if out.EnvoyGateway == nil {
		out.EnvoyGateway = &spec.EnvoyGatewayArgs{}
	}
	if out.Gateway == nil {
		out.Gateway = &spec.GatewayArgs{}
	}
	if out.Gateway.Listeners == nil {
		out.Gateway.Listeners = []spec.ListenerArgs{
			{Name: "http", Protocol: core.ProtocolHTTP, Port: 80},
			{Name: "https", Protocol: core.ProtocolHTTPS, Port: 443},
		}
	}
	for i := range out.Backends {
		b := &out.Backends[i]
		if b.Service == nil {
			b.Service = &spec.ServiceArgs{}
		}
		if b.Deploy == nil {
			b.Deploy = &spec.DeployArgs{}
		}
		if b.Route == nil {
			b.Route = &spec.RouteArgs{}
		}
		if len(b.Service.Ports) == 0 {
			b.Service.Ports = []spec.PortArgs{{Name: "https", Port: 443}}
		}
	}
	if e := out.EKS; e != nil {
		if e.Identity == nil {
			e.Identity = &spec.EKSIdentityArgs{}
		}
		if e.Controller == nil {
			e.Controller = &spec.LBCArgs{}
		}
		if e.Gateway == nil {
			e.Gateway = &spec.NLBGatewayArgs{}
		}
		if e.Gateway.Listeners == nil {
			e.Gateway.Listeners = []spec.NLBListenerArgs{{Name: "tls", Protocol: core.ProtocolTLS, Port: 443}}
		}
		for i := range e.Targets {
			t := &e.Targets[i]
			if t.TargetGroup == nil {
				t.TargetGroup = &spec.TargetGroupArgs{}
			}
			if t.TargetGroup.HealthCheck == nil {
				t.TargetGroup.HealthCheck = &spec.HealthCheckArgs{}
			}
		}
	}

	ApplyTagDefaults(&out)

	// Defaults that depend on other fields.
	gw := out.Gateway
	for i := range out.Backends {
		b := &out.Backends[i]
		setDefault(&b.Namespace, gw.Namespace)
		setDefault(&b.Service.Name, b.Name)
		if b.External != nil {
			// Nothing is deployed for an external backend, and the SNI is its host name.
			b.Service.Existing = true
			setDefault(&b.TLS.Hostname, b.External.Hostname)
		}
		if b.Route.Port == "" {
			b.Route.Port = b.Service.Ports[0].Name
		}
		if !b.TLS.SNIFromRequestHost {
			setDefault(&b.TLS.Hostname, b.Service.Name+"."+b.Namespace+".svc")
		}
	}
	if e := out.EKS; e != nil {
		eksDefaults(&out, e)
	}
	return out
}

func eksDefaults(a *spec.Args, e *spec.EKSArgs) {
	if e.ClusterName != "" && e.Identity.Mode != spec.IdentityExisting {
		setDefault(&e.Identity.RoleName, e.ClusterName+"-aws-load-balancer-controller")
	}
	if len(e.Controller.CRDs) == 0 {
		e.Controller.CRDs = eks.CRDsURLs(e.Controller.Version)
	}
	g := e.Gateway
	setDefault(&g.Namespace, a.Gateway.Namespace)
	listeners := map[string]spec.NLBListenerArgs{}
	for i := range g.Listeners {
		l := &g.Listeners[i]
		if l.Protocol == core.ProtocolTLS {
			setDefault(&l.SSLPolicy, eks.DefaultNLBSSLPolicy)
		}
		listeners[l.Name] = *l
	}
	for i := range e.Targets {
		t := &e.Targets[i]
		if t.Service != nil {
			setDefault(&t.Service.Namespace, g.Namespace)
		}
		if t.Listener == "" && len(g.Listeners) > 0 {
			t.Listener = g.Listeners[0].Name
		}
		// A TLSRoute's host names default to its listener's.
		if l, ok := listeners[t.Listener]; ok && l.Protocol == core.ProtocolTLS && len(t.Hostnames) == 0 && l.Hostname != "" {
			t.Hostnames = []string{l.Hostname}
		}
		tg := t.TargetGroup
		if svc, ns, _, _, ok := targetServiceOf(a, t); ok {
			setDefault(&tg.Name, svc+"-nlb")
			setDefault(&tg.Namespace, ns)
		}
		hc := tg.HealthCheck
		if hc.Protocol == "HTTP" || hc.Protocol == "HTTPS" {
			setDefault(&hc.Path, "/")
		}
	}
}

// targetServiceOf resolves an NLB target's Service on defaulted backends.
func targetServiceOf(a *spec.Args, t *spec.NLBTargetArgs) (name, namespace string, port int, backend *spec.BackendArgs, ok bool) {
	switch {
	case t.Backend != "" && t.Service == nil:
		for i := range a.Backends {
			if b := &a.Backends[i]; b.Name == t.Backend {
				return b.Service.Name, b.Namespace, 0, b, true
			}
		}
	case t.Service != nil && t.Backend == "":
		return t.Service.Name, t.Service.Namespace, t.Service.Port, nil, true
	}
	return "", "", 0, nil, false
}

// ApplyTagDefaults sets every zero-valued field of *v (and of the structs it reaches through
// non-nil pointers and slices) that has a `default:"…"` tag to that default. A nil *bool with
// a tag gets a pointer to the default. It panics only on a tag that does not parse as the
// field's type, which TestTagDefaultsParse rules out.
func ApplyTagDefaults(v any) { applyTags(reflect.ValueOf(v).Elem()) }

func applyTags(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			applyTags(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			applyTags(v.Index(i))
		}
	case reflect.Struct:
		t := v.Type()
		for _, f := range tagFieldsOf(t) {
			fv := v.Field(f.index)
			if f.hasDefault && fv.IsZero() {
				if err := setFromTag(fv, f.def); err != nil {
					panic(fmt.Sprintf("spec.%s.%s: %v", t.Name(), t.Field(f.index).Name, err))
				}
				continue
			}
			applyTags(fv)
		}
	}
}

// tagField is a struct field applyTags visits: one with a default tag, or one of a kind it
// descends into (pointer, slice, struct).
type tagField struct {
	index      int
	def        string
	hasDefault bool
}

// tagFields caches tagFieldsOf by struct type: the spec types are few and fixed, and reading
// their tags once instead of once per backend is most of what defaulting a large
// configuration costs (bench/RESULTS.md, the plan tier).
var tagFields sync.Map // reflect.Type → []tagField

// tagFieldsOf lists the fields of struct type t that applyTags visits, in order.
func tagFieldsOf(t reflect.Type) []tagField {
	if fs, ok := tagFields.Load(t); ok {
		return fs.([]tagField)
	}
	var fs []tagField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		def, ok := f.Tag.Lookup("default")
		switch k := f.Type.Kind(); {
		case ok:
			fs = append(fs, tagField{index: i, def: def, hasDefault: true})
		case k == reflect.Pointer || k == reflect.Slice || k == reflect.Struct:
			fs = append(fs, tagField{index: i})
		}
	}
	tagFields.Store(t, fs)
	return fs
}

// setFromTag sets v (zero) to the tag value def, parsed as v's type.
func setFromTag(v reflect.Value, def string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(def)
	case reflect.Bool:
		b, err := strconv.ParseBool(def)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(def)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := setFromTag(p.Elem(), def); err != nil {
			return err
		}
		v.Set(p)
	default:
		return fmt.Errorf("default tags are not supported on %s fields", v.Kind())
	}
	return nil
}

func setDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// deepCopy returns a copy of a that shares no pointer, slice or map with it (nil stays nil and
// empty stays empty: `listeners: []` and no listeners are different inputs).
func deepCopy(a spec.Args) spec.Args {
	var out spec.Args
	copyValue(reflect.ValueOf(&out).Elem(), reflect.ValueOf(a))
	return out
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			copyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for _, k := range src.MapKeys() {
			e := reflect.New(src.Type().Elem()).Elem()
			copyValue(e, src.MapIndex(k))
			m.SetMapIndex(k, e)
		}
		dst.Set(m)
	case reflect.Struct:
		for i := 0; i < src.NumField(); i++ {
			copyValue(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}
