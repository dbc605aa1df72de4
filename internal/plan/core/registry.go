package core

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Registry gives every name the plan touches one owner. Every object the plan creates is
// claimed by the configuration field that asks for it (Create); every existing object the
// configuration names (a CA ConfigMap, a serving Secret, an existing Service) is claimed as the
// user's (Use). Check then refuses:
//
//   - two fields creating the same object (kind, namespace, name);
//   - a field naming an existing object that another field's generated object would take the
//     name of: the component would overwrite it (and delete it on destroy);
//   - two different objects of one kind with the same Pulumi resource name
//     (kind-namespace-name), which the engine refuses as duplicate URNs: `-` joins the parts, so
//     namespace `a-b` + name `c` and namespace `a` + name `b-c` meet.
//
// Several fields using one existing object is fine (two backends can trust one CA ConfigMap).
type Registry struct {
	creates []entry
	uses    []entry
}

type entry struct{ kind, namespace, name, field string }

func (e entry) key() string { return Key(e.kind, e.namespace, e.name) }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Create claims every object in objs for the field that planned it (Object.Field).
func (r *Registry) Create(objs ...Object) {
	r.creates = slices.Grow(r.creates, len(objs))
	for _, o := range objs {
		r.creates = append(r.creates, entry{o.Kind(), o.Namespace(), o.Name(), o.Field})
	}
}

// Use records that fieldPath names an existing object the user owns.
func (r *Registry) Use(kind, namespace, name string, fieldPath *field.Path) {
	r.uses = append(r.uses, entry{kind, namespace, name, fieldPath.String()})
}

// Check reports every conflict into p, on the later field, naming the earlier one.
func (r *Registry) Check(p *Problems) {
	// (Struct keys: the messages' strings are made for conflicts only. Within one kind, two
	// objects meet in the engine when their namespace and name joined with '-' are the same:
	// ResourceName.)
	type objectKey struct{ kind, namespace, name string }
	type nameKey struct{ kind, joined string }
	byKey := make(map[objectKey]int, len(r.creates)) // → index in r.creates
	byName := make(map[nameKey]int, len(r.creates))
	for i, c := range r.creates {
		ok := objectKey{c.kind, c.namespace, c.name}
		if j, dup := byKey[ok]; dup {
			prev := r.creates[j]
			p.Duplicate(field.NewPath(c.field), fmt.Sprintf("would create %s, which %s creates too", c.key(), prev.field),
				"give the two entries names that do not produce the same object (each backend, listener and target names its objects after itself)")
			continue
		}
		byKey[ok] = i
		nk := nameKey{c.kind, c.name}
		if c.namespace != "" {
			nk.joined = c.namespace + "-" + c.name
		}
		if j, dup := byName[nk]; dup {
			prev := r.creates[j]
			p.Duplicate(field.NewPath(c.field), fmt.Sprintf("would create %s, whose resource name %q is also that of %s from %s (names are joined with '-')",
				c.key(), ResourceName(c.kind, c.namespace, c.name), prev.key(), prev.field),
				"rename one of the two entries (or their namespaces) so that their object names differ")
			continue
		}
		byName[nk] = i
	}
	for _, u := range r.uses {
		if j, ok := byKey[objectKey{u.kind, u.namespace, u.name}]; ok {
			c := r.creates[j]
			p.Duplicate(field.NewPath(u.field), fmt.Sprintf("names the existing %s, but %s generates an object of that name, which would overwrite it (and delete it on destroy)", u.key(), c.field),
				"name another existing object, or rename the entry whose generated object takes that name")
		}
	}
}
