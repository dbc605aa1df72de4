package examples_test

// The C# example (examples/csharp) and the generated .NET SDK (sdk/dotnet), without a C#
// compiler (none runs here: NuGet serves no Pulumi package, mono's mcs predates the C# they
// use). Instead:
//   - syntax: every .cs file parses with tree-sitter's C# grammar (testdata/csharp-parser,
//     node_modules from scripts/example-tools.sh csharp-parser), and broken copies are reported
//     with the line and column of the mistake;
//   - the SDK as the example uses it, from the parse trees: every type the example creates
//     exists (in the SDK, the example itself or the few framework types it names), every
//     initializer sets a property the type has, with a value of the property's type read from
//     the configuration key the SDK serialises the property as; every output it reads exists;
//     every SDK input type is created and every input property set (the example maps the whole
//     schema);
//   - the solution (UpstreamTls.Infra.sln at the repository root) and the project files.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

type csPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (p csPos) at(file string) string { return fmt.Sprintf("%s:%d:%d", file, p.Line, p.Column) }

type csFile struct {
	File   string `json:"file"`
	Errors []struct {
		csPos
		Kind string `json:"kind"`
		Text string `json:"text"`
	} `json:"errors"`
	Usings []struct {
		Alias string `json:"alias"`
		Name  string `json:"name"`
	} `json:"usings"`
	Types     []csType `json:"types"`
	Creations []struct {
		csPos
		Type    string `json:"type"`
		Members []struct {
			csPos
			Name   string   `json:"name"`
			Method string   `json:"method"`
			Args   []string `json:"args"`
		} `json:"members"`
	} `json:"creations"`
	Variables []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"variables"`
	MemberAccess []struct {
		csPos
		Object string `json:"object"`
		Member string `json:"member"`
	} `json:"memberAccess"`
}

type csMember struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Modifiers []string `json:"modifiers"`
	Input     string   `json:"input"`
}

func (m csMember) static() bool {
	for _, x := range m.Modifiers {
		if x == "static" {
			return true
		}
	}
	return false
}

type csType struct {
	csPos
	Namespace  string     `json:"namespace"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Properties []csMember `json:"properties"`
	Fields     []csMember `json:"fields"`
	Methods    []struct {
		Name    string `json:"name"`
		Returns string `json:"returns"`
	} `json:"methods"`
}

func (t *csType) fullName() string {
	if t.Namespace == "" {
		return t.Name
	}
	return t.Namespace + "." + t.Name
}

// csInput is an input property of a generated Args class.
type csInput struct {
	Type     string // normalised: Input<string>, InputList<BackendArgs>, bool
	Key      string // the schema name ([Input("key")])
	Required bool
}

// inputs are the input properties of an SDK Args class: those with an [Input] attribute, or
// whose backing field (_name, for lists) has one.
func (t *csType) inputs() map[string]csInput {
	fields := map[string]csMember{}
	for _, f := range t.Fields {
		fields[f.Name] = f
	}
	out := map[string]csInput{}
	for _, p := range t.Properties {
		if p.static() {
			continue
		}
		key := p.Input
		if key == "" {
			key = fields["_"+strings.ToLower(p.Name[:1])+p.Name[1:]].Input
		}
		if key == "" {
			continue
		}
		out[p.Name] = csInput{
			Type:     normaliseCSType(p.Type),
			Key:      key,
			Required: strings.HasPrefix(p.Type, "Input<") && !strings.HasSuffix(p.Type, "?"),
		}
	}
	return out
}

func (t *csType) property(name string) (csMember, bool) {
	for _, p := range t.Properties {
		if p.Name == name && !p.static() {
			return p, true
		}
	}
	return csMember{}, false
}

// normaliseCSType drops nullable marks, `global::Pulumi.` and the SDK's `Inputs.` qualifier.
func normaliseCSType(s string) string {
	s = strings.ReplaceAll(s, " ", "")
	s = strings.TrimSuffix(s, "?")
	s = strings.ReplaceAll(s, "global::Pulumi.", "")
	return strings.ReplaceAll(s, "Inputs.", "")
}

// csharpParser returns the node_modules directory of the syntax check (built on first use).
func csharpParser(t *testing.T) string {
	t.Helper()
	return runExampleTool(t, "csharp-parser")
}

// parseCSharp runs testdata/csharp-parser/parse-csharp.js --json on files: the per-file
// results, what it printed on stderr, and its exit error.
func parseCSharp(t *testing.T, files ...string) ([]csFile, string, error) {
	t.Helper()
	modules := csharpParser(t)
	args := append([]string{filepath.Join(repoRoot(), "tests", "examples", "testdata", "csharp-parser", "parse-csharp.js"), "--json"}, files...)
	cmd := exec.Command("node", args...)
	cmd.Env = withEnvVars(os.Environ(), "NODE_PATH="+modules)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("parse-csharp.js: %d files in %s", len(files), time.Since(start).Round(time.Millisecond))
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("parse-csharp.js: %v\n%s", err, stderr.String())
	}
	var out struct {
		Files []csFile `json:"files"`
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
		t.Fatalf("parse-csharp.js printed no JSON (%v):\n%s\n%s", jerr, stdout.String(), stderr.String())
	}
	return out.Files, stderr.String(), err
}

// csFiles lists the .cs files under dir (relative to the repository root), sorted.
func csFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.Walk(filepath.Join(repoRoot(), dir), func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() && (info.Name() == "bin" || info.Name() == "obj") {
			return filepath.SkipDir
		}
		if !info.IsDir() && strings.HasSuffix(path, ".cs") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no .cs file under %s", dir)
	}
	sort.Strings(files)
	return files
}

// TestCSharpSyntax: the generated SDK and the example parse without an error.
func TestCSharpSyntax(t *testing.T) {
	files := append(csFiles(t, "sdk/dotnet"), csFiles(t, "examples/csharp")...)
	parsed, stderr, err := parseCSharp(t, files...)
	if err != nil {
		t.Fatalf("syntax errors (%v):\n%s", err, stderr)
	}
	if len(parsed) != len(files) {
		t.Fatalf("parse-csharp.js reported %d of %d files", len(parsed), len(files))
	}
	for _, f := range parsed {
		for _, e := range f.Errors {
			t.Errorf("%s: %s: %s", e.at(f.File), e.Kind, e.Text)
		}
	}
	t.Logf("%d files parse: %d of sdk/dotnet, the rest of examples/csharp", len(files), len(csFiles(t, "sdk/dotnet")))
}

// TestCSharpSyntaxErrorsReported: broken copies of Program.cs are refused, with the line and
// column of the mistake.
func TestCSharpSyntaxErrorsReported(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "csharp", "Program.cs"))
	if err != nil {
		t.Fatal(err)
	}
	program := string(src)
	lineOf := func(needle string) (line, col int) {
		i := strings.Index(program, needle)
		if i < 0 {
			t.Fatalf("Program.cs no longer contains %q", needle)
		}
		line = strings.Count(program[:i], "\n") + 1
		return line, i - strings.LastIndex(program[:i], "\n")
	}
	dir := t.TempDir()

	// 1. A statement without its `;`: MISSING ";" exactly where it belongs.
	stmt := `var config = new Config("upstream-tls");`
	line, col := lineOf(stmt)
	semi := filepath.Join(dir, "missing-semicolon", "Program.cs")
	writeFile(t, semi, strings.Replace(program, stmt, strings.TrimSuffix(stmt, ";"), 1))
	want := fmt.Sprintf(`%s:%d:%d: MISSING: missing ";"`, semi, line, col+len(stmt)-1)
	_, stderr, err := parseCSharp(t, semi)
	if err == nil || !strings.Contains(stderr, want) {
		t.Errorf("a missing semicolon: exit %v, want the report %q, got:\n%s", err, want, stderr)
	}

	// 2. A class whose constructor lost its closing brace: the error is at that class (its first
	// line; tree-sitter's error recovery cannot tell which brace is missing).
	ctor := "    public StackConfigException(string message) : base(message)\n    {\n    }\n"
	classLine, _ := lineOf("sealed class StackConfigException")
	braceLine, _ := lineOf(ctor)
	brace := filepath.Join(dir, "missing-brace", "Program.cs")
	writeFile(t, brace, strings.Replace(program, ctor, strings.TrimSuffix(ctor, "    }\n"), 1))
	parsed, stderr, err := parseCSharp(t, brace)
	if err == nil || len(parsed) != 1 || len(parsed[0].Errors) == 0 {
		t.Fatalf("a missing brace was not reported (exit %v):\n%s", err, stderr)
	}
	e := parsed[0].Errors[0]
	if e.Line < classLine || e.Line > braceLine+2 || !strings.Contains(stderr, e.at(brace)+": ") {
		t.Errorf("a missing brace (line %d, in the class at line %d) reported at %s:\n%s", braceLine+2, classLine, e.at(brace), stderr)
	}

	// 3. A valid file next to a broken one: only the broken one is reported, and the run fails.
	parsed, _, err = parseCSharp(t, filepath.Join(repoRoot(), "sdk", "dotnet", "UpstreamTls.cs"), semi)
	if err == nil || len(parsed) != 2 || len(parsed[0].Errors) != 0 || len(parsed[1].Errors) != 1 {
		t.Errorf("valid + broken file: exit %v, errors %d and %d", err, len(parsed[0].Errors), len(parsed[1].Errors))
	}
}

// TestCSharpExampleUsesTheSDK: Program.cs uses the generated SDK as it is (types, properties,
// property types, schema names, outputs) and covers all of its inputs; a copy with mistakes of
// each kind is refused, naming them.
func TestCSharpExampleUsesTheSDK(t *testing.T) {
	sdkFiles := csFiles(t, "sdk/dotnet")
	exampleFiles := csFiles(t, "examples/csharp")
	parsed, stderr, err := parseCSharp(t, append(sdkFiles, exampleFiles...)...)
	if err != nil {
		t.Fatalf("syntax errors (%v):\n%s", err, stderr)
	}
	sdk, example := parsed[:len(sdkFiles)], parsed[len(sdkFiles):]
	problems := checkSDKUse(sdk, example)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) == 0 {
		var n int
		for _, f := range example {
			n += len(f.Creations)
		}
		t.Logf("examples/csharp: %d object creations checked against %d SDK types", n, countTypes(sdk))
	}

	// The checker itself: one mistake of each kind in a copy of Program.cs.
	src, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "csharp", "Program.cs"))
	if err != nil {
		t.Fatal(err)
	}
	mutations := []struct{ from, to, want string }{
		{"new BackendTlsArgs\n", "new BackendTlsOptions\n", "new BackendTlsOptions: no such type"},
		{`Hostnames = o.Strings("hostnames")!,` + "\n        PathPrefix", `HostNames = o.Strings("hostnames")!,` + "\n        PathPrefix", "RouteArgs has no property HostNames"},
		{`Port = o.RequiredInt("port"),` + "\n        Hostname = o.String(\"hostname\"),\n        CertificateSecret", `Port = o.RequiredString("port"),` + "\n        Hostname = o.String(\"hostname\"),\n        CertificateSecret", "ListenerArgs.Port is Input<int>, set from RequiredString (Input<string>)"},
		{`ChartDir = o.LocalPath("chartDir"),` + "\n        ManageGatewayAPICRDs", `ChartDir = o.LocalPath("chartdir"),` + "\n        ManageGatewayAPICRDs", `EnvoyGatewayArgs.ChartDir is read from key "chartdir", the SDK serialises it as "chartDir"`},
		{`Pem = o.String("pem"),`, ``, "CaSourceArgs.Pem (pem) is not set"},
		{`["posture"] = env.Posture,`, `["posture"] = env.Postures,`, "UpstreamTls has no output Postures"},
	}
	mutated := string(src)
	for _, m := range mutations {
		if !strings.Contains(mutated, m.from) {
			t.Fatalf("Program.cs no longer contains %q", m.from)
		}
		mutated = strings.Replace(mutated, m.from, m.to, 1)
	}
	copyPath := filepath.Join(t.TempDir(), "Program.cs")
	writeFile(t, copyPath, mutated)
	parsedCopy, stderr, err := parseCSharp(t, copyPath)
	if err != nil {
		t.Fatalf("the mutated copy does not parse (%v):\n%s", err, stderr)
	}
	got := checkSDKUse(sdk, parsedCopy)
	t.Logf("the mutated copy's problems, as reported:\n  %s", strings.Join(got, "\n  "))
	for _, m := range mutations {
		found := false
		for _, p := range got {
			if strings.Contains(p, m.want) && strings.HasPrefix(p, copyPath+":") {
				found = true
			}
		}
		if !found {
			t.Errorf("the mistake %q -> %q is not reported as %q; reported:\n  %s", m.from, m.to, m.want, strings.Join(got, "\n  "))
		}
	}
}

// frameworkTypes are the non-SDK types the example may create by their simple name.
var frameworkTypes = map[string]bool{
	"Config": true, "ComponentResourceOptions": true, "CustomResourceOptions": true,
	"InputList": true, "InputMap": true, "Dictionary": true, "List": true,
}

// externalNamespaces are the packages besides the SDK the example may use, qualified.
var externalNamespaces = []string{"Pulumi.Kubernetes."}

// inputMethods are the ConfigObject readers of Program.cs and the SDK property type each fills.
var inputMethods = map[string]string{
	"String": "Input<string>", "RequiredString": "Input<string>", "LocalPath": "Input<string>",
	"Int": "Input<int>", "RequiredInt": "Input<int>", "Bool": "Input<bool>",
	"Strings": "InputList<string>", "LocalPaths": "InputList<string>",
	"Child": "Input<%s>", "RequiredChild": "Input<%s>", "Children": "InputList<%s>",
}

func countTypes(files []csFile) int {
	n := 0
	for _, f := range files {
		n += len(f.Types)
	}
	return n
}

// checkSDKUse checks the example's files against the SDK's: the problems, each starting with
// file:line:column.
func checkSDKUse(sdkFiles, exampleFiles []csFile) []string {
	var problems []string
	report := func(file string, p csPos, format string, args ...any) {
		problems = append(problems, p.at(file)+": "+fmt.Sprintf(format, args...))
	}
	sdk := map[string]*csType{}
	for i := range sdkFiles {
		for j := range sdkFiles[i].Types {
			t := &sdkFiles[i].Types[j]
			sdk[t.fullName()] = t
		}
	}
	local := map[string]*csType{}
	methods := map[string]string{} // local method name -> return type
	for i := range exampleFiles {
		for j := range exampleFiles[i].Types {
			t := &exampleFiles[i].Types[j]
			local[t.fullName()] = t
			for _, m := range t.Methods {
				methods[m.Name] = m.Returns
			}
		}
	}
	created := map[string]bool{}
	for _, f := range exampleFiles {
		aliases := map[string]string{}
		var imports []string
		for _, u := range f.Usings {
			if u.Alias != "" {
				aliases[u.Alias] = u.Name
			} else {
				imports = append(imports, u.Name)
			}
		}
		// resolve: the SDK type a type name (as written) denotes, or ok=false with the reason
		// when it denotes none of the allowed types; (nil, true) for allowed non-SDK types.
		resolve := func(name string) (*csType, bool) {
			name = strings.TrimPrefix(name, "global::")
			if first, rest, ok := strings.Cut(name, "."); ok {
				if target, ok := aliases[first]; ok {
					name = target + "." + rest
				}
				if t := sdk[name]; t != nil {
					return t, true
				}
				for _, ns := range externalNamespaces {
					if strings.HasPrefix(name, ns) {
						return nil, true
					}
				}
				return nil, false
			}
			if local[name] != nil {
				return nil, true
			}
			for _, ns := range imports {
				if t := sdk[ns+"."+name]; t != nil {
					return t, true
				}
			}
			return nil, frameworkTypes[name]
		}

		for _, c := range f.Creations {
			t, ok := resolve(c.Type)
			if !ok {
				report(f.File, c.csPos, "new %s: no such type in the generated SDK (sdk/dotnet), the example or its allowed packages", c.Type)
				continue
			}
			if t == nil {
				continue
			}
			created[t.fullName()] = true
			inputs := t.inputs()
			set := map[string]bool{}
			for _, m := range c.Members {
				set[m.Name] = true
				in, isInput := inputs[m.Name]
				if _, isProperty := t.property(m.Name); !isProperty || (len(inputs) > 0 && !isInput) {
					report(f.File, m.csPos, "%s has no property %s", t.Name, m.Name)
					continue
				}
				want, isReader := inputMethods[m.Method]
				if !isReader || !isInput {
					continue
				}
				if strings.Contains(want, "%s") {
					if len(m.Args) < 2 {
						report(f.File, m.csPos, "%s.%s: %s without a converter", t.Name, m.Name, m.Method)
						continue
					}
					conv := m.Args[1][strings.LastIndex(m.Args[1], ".")+1:]
					ret, ok := methods[conv]
					if !ok {
						report(f.File, m.csPos, "%s.%s: no converter method %s in the example", t.Name, m.Name, m.Args[1])
						continue
					}
					want = fmt.Sprintf(want, normaliseCSType(ret))
				}
				if want != in.Type {
					report(f.File, m.csPos, "%s.%s is %s, set from %s (%s)", t.Name, m.Name, in.Type, m.Method, want)
				}
				if len(m.Args) > 0 && strings.HasPrefix(m.Args[0], `"`) {
					if key := strings.Trim(m.Args[0], `"`); key != in.Key {
						report(f.File, m.csPos, "%s.%s is read from key %q, the SDK serialises it as %q", t.Name, m.Name, key, in.Key)
					}
				}
				if required := strings.HasPrefix(m.Method, "Required"); required != in.Required {
					report(f.File, m.csPos, "%s.%s: required in the SDK: %v, read with %s", t.Name, m.Name, in.Required, m.Method)
				}
			}
			var unset []string
			for name, in := range inputs {
				if !set[name] {
					unset = append(unset, fmt.Sprintf("%s.%s (%s)", t.Name, name, in.Key))
				}
			}
			sort.Strings(unset)
			for _, u := range unset {
				report(f.File, c.csPos, "%s is not set: the example maps every input of the schema", u)
			}
		}

		// Outputs read from a variable holding an SDK resource.
		vars := map[string]*csType{}
		for _, v := range f.Variables {
			if t, _ := resolve(v.Type); t != nil {
				vars[v.Name] = t
			}
		}
		for _, a := range f.MemberAccess {
			if t := vars[a.Object]; t != nil {
				if _, ok := t.property(a.Member); !ok {
					report(f.File, a.csPos, "%s has no output %s", t.Name, a.Member)
				}
			}
		}
	}

	// Every input type of the SDK, the component and its Args are created somewhere.
	var missing []string
	for name, t := range sdk {
		isInput := t.Namespace == "Pulumi.UpstreamTls.Inputs" && strings.HasSuffix(t.Name, "Args")
		if (isInput || name == "Pulumi.UpstreamTls.UpstreamTls" || name == "Pulumi.UpstreamTls.UpstreamTlsArgs") && !created[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		file := "examples/csharp"
		if len(exampleFiles) > 0 {
			file = exampleFiles[0].File
		}
		problems = append(problems, fmt.Sprintf("%s:1:1: %s is never created: the example maps every input type of the schema", file, name))
	}
	return problems
}

// TestCSharpSolution: UpstreamTls.Infra.sln (Visual Studio format 12.00) lists the example and
// the generated SDK by existing paths, with well-formed unique GUIDs and both configurations;
// the example project references the SDK project and the Pulumi package; Pulumi.yaml runs it
// with the dotnet runtime under the product's project name.
func TestCSharpSolution(t *testing.T) {
	root := repoRoot()
	raw, err := os.ReadFile(filepath.Join(root, "UpstreamTls.Infra.sln"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(strings.TrimPrefix(string(raw), "\ufeff"), "\r\n", "\n")
	if first := strings.TrimSpace(strings.TrimLeft(text, "\n")); !strings.HasPrefix(first, "Microsoft Visual Studio Solution File, Format Version 12.00\n") {
		t.Fatalf("UpstreamTls.Infra.sln does not start with the format line: %.80q", first)
	}
	const (
		folderType = "2150E333-8FDC-42A3-9474-1A3956D46DE8"
		guid       = `[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}`
	)
	csharpTypes := map[string]bool{"FAE04EC0-301F-11D3-BF4B-00C04F79EFBC": true, "9A19103F-16F7-4668-BE54-9A1E7A4F7556": true}
	projectRe := regexp.MustCompile(`(?m)^Project\("\{(` + guid + `)\}"\) = "([^"]+)", "([^"]+)", "\{(` + guid + `)\}"\n((?:.*\n)*?)EndProject$`)
	type project struct{ kind, name, path, guid string }
	var projects []project
	guids := map[string]project{}
	for _, m := range projectRe.FindAllStringSubmatch(text, -1) {
		p := project{m[1], m[2], m[3], m[4]}
		if _, dup := guids[p.guid]; dup {
			t.Errorf("GUID {%s} used twice", p.guid)
		}
		guids[p.guid] = p
		projects = append(projects, p)
	}
	if n := strings.Count(text, "\nProject("); n != len(projects) {
		t.Errorf("%d Project lines, %d well-formed", n, len(projects))
	}
	configs := regexp.MustCompile(`(?m)^\t\t([^=\n]+?) = ([^\n]+)$`)
	section := func(name string) string {
		m := regexp.MustCompile(`(?s)\tGlobalSection\(` + name + `\) = (?:pre|post)Solution\n(.*?)\tEndGlobalSection`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("UpstreamTls.Infra.sln has no GlobalSection(%s)", name)
		}
		return m[1]
	}
	var solutionConfigs []string
	for _, m := range configs.FindAllStringSubmatch(section("SolutionConfigurationPlatforms"), -1) {
		solutionConfigs = append(solutionConfigs, m[1])
	}
	projectConfigs := section("ProjectConfigurationPlatforms")

	want := map[string]string{
		"examples/csharp/UpstreamTls.Example.csproj": "UpstreamTls.Example",
		"sdk/dotnet/Pulumi.UpstreamTls.csproj":       "Pulumi.UpstreamTls",
	}
	for _, p := range projects {
		if p.kind == folderType {
			continue
		}
		path := strings.ReplaceAll(p.path, `\`, "/")
		if !csharpTypes[p.kind] {
			t.Errorf("project %s: type {%s} is not a C# project type", p.name, p.kind)
		}
		if _, err := os.Stat(filepath.Join(root, path)); err != nil {
			t.Errorf("project %s: %s does not exist", p.name, p.path)
		}
		if name, ok := want[path]; ok {
			if name != p.name {
				t.Errorf("project %s is named %q, want %q (the project file's name)", path, p.name, name)
			}
			delete(want, path)
		}
		for _, c := range solutionConfigs {
			for _, what := range []string{"ActiveCfg", "Build.0"} {
				if !strings.Contains(projectConfigs, "{"+p.guid+"}."+c+"."+what+" = ") {
					t.Errorf("project %s has no %s for %s", p.name, what, c)
				}
			}
		}
	}
	for path := range want {
		t.Errorf("UpstreamTls.Infra.sln does not list %s", path)
	}
	if len(solutionConfigs) == 0 {
		t.Error("no solution configurations")
	}
	for _, m := range regexp.MustCompile(`\{(`+guid+`)\} = \{(`+guid+`)\}`).FindAllStringSubmatch(section("NestedProjects"), -1) {
		if _, ok := guids[m[1]]; !ok {
			t.Errorf("NestedProjects: {%s} is no project", m[1])
		}
		if guids[m[2]].kind != folderType {
			t.Errorf("NestedProjects: {%s} is no solution folder", m[2])
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(text), "EndGlobal") {
		t.Error("UpstreamTls.Infra.sln does not end with EndGlobal")
	}

	// The example project: an executable referencing the SDK project (by an existing path) and
	// the Pulumi package.
	var csproj struct {
		Sdk        string `xml:"Sdk,attr"`
		Properties []struct {
			OutputType      string `xml:"OutputType"`
			TargetFramework string `xml:"TargetFramework"`
		} `xml:"PropertyGroup"`
		Items []struct {
			Packages []struct {
				Include string `xml:"Include,attr"`
				Version string `xml:"Version,attr"`
			} `xml:"PackageReference"`
			Projects []struct {
				Include string `xml:"Include,attr"`
			} `xml:"ProjectReference"`
		} `xml:"ItemGroup"`
	}
	exampleDir := filepath.Join(root, "examples", "csharp")
	raw, err = os.ReadFile(filepath.Join(exampleDir, "UpstreamTls.Example.csproj"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(raw, &csproj); err != nil {
		t.Fatalf("UpstreamTls.Example.csproj: %v", err)
	}
	if csproj.Sdk != "Microsoft.NET.Sdk" {
		t.Errorf("UpstreamTls.Example.csproj: Sdk=%q", csproj.Sdk)
	}
	var exe, framework bool
	for _, pg := range csproj.Properties {
		exe = exe || pg.OutputType == "Exe"
		framework = framework || strings.HasPrefix(pg.TargetFramework, "net")
	}
	if !exe || !framework {
		t.Errorf("UpstreamTls.Example.csproj: OutputType Exe %v, a TargetFramework %v", exe, framework)
	}
	packages := map[string]string{}
	var sdkRef bool
	for _, ig := range csproj.Items {
		for _, p := range ig.Packages {
			packages[p.Include] = p.Version
		}
		for _, p := range ig.Projects {
			ref := filepath.Clean(filepath.Join(exampleDir, filepath.FromSlash(strings.ReplaceAll(p.Include, `\`, "/"))))
			if _, err := os.Stat(ref); err != nil {
				t.Errorf("UpstreamTls.Example.csproj references %s, which does not exist", p.Include)
			}
			sdkRef = sdkRef || ref == filepath.Join(root, "sdk", "dotnet", "Pulumi.UpstreamTls.csproj")
		}
	}
	if !sdkRef {
		t.Error("UpstreamTls.Example.csproj does not reference sdk/dotnet/Pulumi.UpstreamTls.csproj")
	}
	if packages["Pulumi"] == "" {
		t.Errorf("UpstreamTls.Example.csproj has no PackageReference to Pulumi: %v", packages)
	}

	var pulumiProject struct {
		Name    string `json:"name"`
		Runtime any    `json:"runtime"`
	}
	raw, err = os.ReadFile(filepath.Join(exampleDir, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &pulumiProject); err != nil {
		t.Fatalf("examples/csharp/Pulumi.yaml: %v", err)
	}
	runtime := pulumiProject.Runtime
	if m, ok := runtime.(map[string]any); ok {
		runtime = m["name"]
	}
	if pulumiProject.Name != "upstream-tls" || runtime != "dotnet" {
		t.Errorf("examples/csharp/Pulumi.yaml: name %q runtime %v, want upstream-tls (the config namespace) and dotnet", pulumiProject.Name, runtime)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
