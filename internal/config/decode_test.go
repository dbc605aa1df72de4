package config

import (
	"reflect"
	"testing"
)

// TestDecodeCoversEveryField: every exported field of spec has a JSON name (so the decoder and
// the schema see it).
func TestDecodeCoversEveryField(t *testing.T) {
	var walk func(rt reflect.Type, seen map[reflect.Type]bool)
	walk = func(rt reflect.Type, seen map[reflect.Type]bool) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			if jsonName(f) == "" {
				t.Errorf("%s.%s has no JSON name", rt.Name(), f.Name)
			}
			walk(f.Type, seen)
		}
	}
	walk(reflect.TypeOf(Stack{}).Field(0).Type, map[reflect.Type]bool{})
}
