package plan

import (
	"fmt"
	"strings"
)

// FieldError is one invalid input: the configuration field (a path such as
// `backends[2].tls.mode`), what is wrong with it, and how to fix it.
type FieldError struct {
	// Field is the path of the offending field, relative to Args.
	Field string
	// Problem says what is wrong, naming the offending value.
	Problem string
	// Fix says what to change.
	Fix string
}

// Error renders the error as `<field>: <problem>; fix: <fix>`.
func (e *FieldError) Error() string {
	if e.Fix == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Problem)
	}
	return fmt.Sprintf("%s: %s; fix: %s", e.Field, e.Problem, e.Fix)
}

// ValidationError collects every FieldError found in one Args, in field order of discovery.
// Build returns it when the input is invalid; no object is planned then.
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

// problems accumulates FieldErrors during validation.
type problems []*FieldError

func (p *problems) add(field, problem, fix string) {
	*p = append(*p, &FieldError{Field: field, Problem: problem, Fix: fix})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}
