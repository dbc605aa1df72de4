package core

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// FieldError is one invalid input: the configuration field (a path such as
// `backends[2].tls.mode`), what is wrong with it, and how to fix it.
type FieldError struct {
	// Field is the path of the offending field (field.Path.String()), relative to the component
	// arguments, which are also the `upstream-tls:` stack configuration keys.
	Field string
	// Type classifies the error as apimachinery does (Invalid, Required, Duplicate, ...).
	Type field.ErrorType
	// Problem says what is wrong, naming the offending value.
	Problem string
	// Fix says what to change. Every problem the plan reports has one.
	Fix string
}

// Error renders the error as `<field>: <problem>; fix: <fix>`.
func (e *FieldError) Error() string {
	if e.Fix == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Problem)
	}
	return fmt.Sprintf("%s: %s; fix: %s", e.Field, e.Problem, e.Fix)
}

// ValidationError collects every FieldError found in one configuration, in the order found.
// The plan returns it when the input is invalid; nothing is planned or registered then.
type ValidationError struct {
	// Problems are the individual field errors; never empty.
	Problems []*FieldError
}

// Error lists every problem on its own line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("invalid upstream-tls configuration: ")
		b.WriteString(e.Problems[0].Error())
		return b.String()
	}
	fmt.Fprintf(&b, "invalid upstream-tls configuration (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap exposes the individual problems to errors.Is / errors.As.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// Problems accumulates FieldErrors during validation.
type Problems struct {
	list []*FieldError
}

// Add records that the field at path is invalid.
func (p *Problems) Add(path *field.Path, problem, fix string) {
	p.AddType(path, field.ErrorTypeInvalid, problem, fix)
}

// Required records that the field at path must be set.
func (p *Problems) Required(path *field.Path, problem, fix string) {
	p.AddType(path, field.ErrorTypeRequired, problem, fix)
}

// Duplicate records that the field at path repeats a value that must be unique.
func (p *Problems) Duplicate(path *field.Path, problem, fix string) {
	p.AddType(path, field.ErrorTypeDuplicate, problem, fix)
}

// AddType records a problem of type t.
func (p *Problems) AddType(path *field.Path, t field.ErrorType, problem, fix string) {
	p.list = append(p.list, &FieldError{Field: path.String(), Type: t, Problem: problem, Fix: fix})
}

// Len is the number of problems recorded.
func (p *Problems) Len() int { return len(p.list) }

// Err returns a *ValidationError of every recorded problem, or nil when there is none.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: append([]*FieldError(nil), p.list...)}
}

// Derived says that the value at Field was not given but defaulted from the values at From (a
// backend's service.name from its name, its tls.hostname from service.name and namespace).
type Derived struct {
	Field string
	From  []string
}

// DropDerived removes the problems of a defaulted field when a field it was derived from has a
// problem already: the user fixes the field they wrote, and the one message that names it is
// enough. Derivations may chain (the hostname from service.name, itself from name); a problem
// of a field whose sources have none is kept.
func (p *Problems) DropDerived(derived []Derived) {
	has := map[string]bool{}
	for _, e := range p.list {
		has[e.Field] = true
	}
	from := map[string][]string{}
	for _, d := range derived {
		from[d.Field] = d.From
	}
	var broken func(f string, seen map[string]bool) bool
	broken = func(f string, seen map[string]bool) bool {
		for _, src := range from[f] {
			if seen[src] {
				continue
			}
			seen[src] = true
			if has[src] || broken(src, seen) {
				return true
			}
		}
		return false
	}
	kept := p.list[:0]
	for _, e := range p.list {
		if _, ok := from[e.Field]; ok && broken(e.Field, map[string]bool{}) {
			continue
		}
		kept = append(kept, e)
	}
	p.list = kept
}
