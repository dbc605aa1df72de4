package config

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
)

// decodeValue decodes v, a generic value (what encoding/json with UseNumber or yaml.v3 decode
// into `any`: maps, lists, strings, numbers, booleans, nil), into dst, reporting every
// mismatch into p with its configuration path: an unknown field names the fields known there,
// a type error says what the field must be. JSON names of the spec types are the field names.
func decodeValue(p *core.Problems, path *field.Path, v any, dst reflect.Value) {
	if v == nil {
		// An explicit null leaves the field unset.
		return
	}
	switch dst.Kind() {
	case reflect.Pointer:
		e := reflect.New(dst.Type().Elem())
		before := p.Len()
		decodeValue(p, path, v, e.Elem())
		if p.Len() == before {
			dst.Set(e)
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			p.Add(path, fmt.Sprintf("must be an object with the fields %s, not %s", strings.Join(fieldNames(dst.Type()), ", "), describe(v)), "write it as a mapping of those fields")
			return
		}
		fields := structFields(dst.Type())
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			i, ok := fields[k]
			if !ok {
				p.Add(path.Child(k), "unknown field"+suggest(k, fieldNames(dst.Type())),
					"use one of the fields known here: "+strings.Join(fieldNames(dst.Type()), ", "))
				continue
			}
			decodeValue(p, path.Child(k), m[k], dst.Field(i))
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			p.Add(path, fmt.Sprintf("must be a list, not %s", describe(v)), "write it as a YAML list (one `- ` entry per item)")
			return
		}
		s := reflect.MakeSlice(dst.Type(), len(l), len(l))
		for i, e := range l {
			decodeValue(p, path.Index(i), e, s.Index(i))
		}
		dst.Set(s)
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			p.Add(path, fmt.Sprintf("must be a string, not %s", describe(v)), "quote the value")
			return
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			p.Add(path, fmt.Sprintf("must be true or false, not %s", describe(v)), "write true or false, without quotes (YAML 1.2: yes, no, on and off are strings)")
			return
		}
		dst.SetBool(b)
	case reflect.Int:
		n, ok := integer(v)
		if !ok {
			p.Add(path, fmt.Sprintf("must be an integer, not %s", describe(v)), "write a whole number, such as 443, without quotes")
			return
		}
		dst.SetInt(n)
	default:
		p.Add(path, fmt.Sprintf("cannot be decoded into %s", dst.Type()), "report this as a bug of upstream-tls")
	}
}

// integer returns v as an int within the int32 range the Kubernetes fields take (larger
// numbers are refused by the plan's range checks with the field's own message; beyond int64
// they cannot be represented at all).
func integer(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// describe names the kind of a generic value for a type error.
func describe(v any) string {
	switch t := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", t)
	case bool:
		return fmt.Sprintf("the boolean %v", t)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case json.Number:
		return "the number " + string(t)
	case int, int64, uint64, float64:
		return fmt.Sprintf("the number %v", t)
	}
	return fmt.Sprintf("%T", v)
}

// structFields maps the JSON names of t's fields to their index.
func structFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		if name := jsonName(t.Field(i)); name != "" {
			out[name] = i
		}
	}
	return out
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if name := jsonName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// suggest returns ` (did you mean "x"?)` when a known field is close to k.
func suggest(k string, known []string) string {
	best, bestD := "", 3
	for _, n := range known {
		if d := distance(strings.ToLower(k), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
