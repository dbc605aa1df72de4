package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// splitLargeFiles splits every Go file larger than maxSize into parts of at
// most about maxSize bytes, named <name>.go, <name>_part2.go, ...
//
// Pulumi's Go codegen already chunks a package's types into pulumiTypes.go,
// pulumiTypes1.go, ... at a fixed 500 types per file ("approximately 5M"), but
// CRD types carry long descriptions (and Patch variants), so those chunks can
// be much larger. Top-level declarations are independent, so they are
// distributed over the parts (each keeps the file header) and every part
// keeps only the imports it uses.
func splitLargeFiles(files map[string][]byte, maxSize int) error {
	for name, src := range files {
		if path.Ext(name) != ".go" || len(src) <= maxSize {
			continue
		}
		parts, err := splitFile(name, src, maxSize)
		if err != nil {
			return err
		}
		delete(files, name)
		base := strings.TrimSuffix(name, ".go")
		for i, part := range parts {
			partName := name
			if i > 0 {
				partName = fmt.Sprintf("%s_part%d.go", base, i+1)
			}
			if _, clash := files[partName]; clash {
				return fmt.Errorf("splitting %s: %s already exists", name, partName)
			}
			if len(part) > maxSize {
				return fmt.Errorf("splitting %s: part %s is still %d bytes (a single declaration is too large)", name, partName, len(part))
			}
			files[partName] = part
		}
	}
	return nil
}

func splitFile(name string, src []byte, maxSize int) ([][]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	offset := func(p token.Pos) int { return fset.Position(p).Offset }
	// Header: everything before the package clause (the "Code generated"
	// comment) and the package clause; imports are rebuilt per part.
	header := string(src[:offset(f.Package)]) + "package " + f.Name.Name + "\n\n"

	// Cut points: the body starts after the imports, and each declaration
	// owns the text since the end of the previous one, so comments between
	// declarations travel with the declaration they precede.
	cuts := []int{offset(f.Name.End())}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			cuts[0] = offset(d.End())
		} else {
			cuts = append(cuts, offset(d.End()))
		}
	}
	cuts[len(cuts)-1] = len(src)

	// Fill parts greedily up to an even share of the body, with some slack
	// for the per-part header and imports.
	const slack = 64 << 10
	limit := maxSize - slack
	if n := (len(src) + limit - 1) / limit; n > 0 && len(src)/n+slack < limit {
		limit = len(src)/n + slack
	}
	var parts [][]byte
	begin := cuts[0]
	for i := 1; i < len(cuts); i++ {
		last := i == len(cuts)-1
		if !last && cuts[i+1]-begin <= limit {
			continue // the next declaration still fits
		}
		part, err := withUsedImports(name, header, f.Imports, src[begin:cuts[i]])
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
		begin = cuts[i]
	}
	return parts, nil
}

// withUsedImports assembles header + import block + body, keeping only the
// imports that body refers to, and gofmts the result.
func withUsedImports(name, header string, imports []*ast.ImportSpec, body []byte) ([]byte, error) {
	// Parse the body alone to find which package names it selects from.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, header+string(body), 0)
	if err != nil {
		return nil, fmt.Errorf("splitting %s: %w", name, err)
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil {
				used[id.Name] = true
			}
		}
		return true
	})
	var buf bytes.Buffer
	buf.WriteString(header)
	buf.WriteString("import (\n")
	for _, imp := range imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		local := importName(p)
		if imp.Name != nil {
			local = imp.Name.Name
		}
		if used[local] || local == "_" || local == "." {
			if imp.Name != nil {
				fmt.Fprintf(&buf, "\t%s %s\n", imp.Name.Name, imp.Path.Value)
			} else {
				fmt.Fprintf(&buf, "\t%s\n", imp.Path.Value)
			}
		}
	}
	buf.WriteString(")\n\n")
	buf.Write(body)
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("splitting %s: %w", name, err)
	}
	return out, nil
}

var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// importName is the package name conventionally implied by an import path
// (last element, skipping a /vN major-version suffix).
func importName(p string) string {
	elems := strings.Split(p, "/")
	last := elems[len(elems)-1]
	if majorVersion.MatchString(last) && len(elems) > 1 {
		last = elems[len(elems)-2]
	}
	last = strings.TrimPrefix(last, "go-")
	if i := strings.IndexAny(last, ".-"); i >= 0 {
		last = last[:i]
	}
	return last
}
