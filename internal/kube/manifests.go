package kube

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// SplitDocuments splits a multi-document YAML stream at its "---" lines into the documents
// that hold more than comments.
func SplitDocuments(b []byte) [][]byte {
	var docs [][]byte
	var cur [][]byte
	flush := func() {
		d := bytes.Join(cur, []byte("\n"))
		for _, l := range cur {
			if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
				docs = append(docs, d)
				break
			}
		}
		cur = nil
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r') {
			flush()
			continue
		}
		cur = append(cur, l)
	}
	flush()
	return docs
}

// ApplyDirs server-side applies, for real, every manifest of every .yaml file in dirs (in name
// order), CustomResourceDefinitions first, and waits until every CRD is Established and served,
// so that objects of those kinds can follow at once.
func (c *Client) ApplyDirs(ctx context.Context, fieldManager string, dirs ...string) error {
	var crds, rest [][]byte
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return err
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			for _, d := range SplitDocuments(b) {
				o, err := Identify(d)
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				if o.Kind == "CustomResourceDefinition" {
					crds = append(crds, d)
				} else {
					rest = append(rest, d)
				}
			}
		}
	}
	var names []string
	for _, d := range crds {
		o, err := c.Apply(ctx, d, ApplyOptions{FieldManager: fieldManager})
		if err != nil {
			return err
		}
		names = append(names, o.Metadata.Name)
	}
	for _, n := range names {
		if err := c.WaitEstablished(ctx, n, time.Minute); err != nil {
			return err
		}
	}
	for _, d := range rest {
		if _, err := c.Apply(ctx, d, ApplyOptions{FieldManager: fieldManager}); err != nil {
			return err
		}
	}
	return nil
}

// WaitEstablished waits until the CRD name is Established and its kind is in discovery.
func (c *Client) WaitEstablished(ctx context.Context, name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		err := c.Get(ctx, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, &crd)
		if err == nil && established(&crd) {
			served := ""
			for _, v := range crd.Spec.Versions {
				if v.Served {
					served = v.Name
					break
				}
			}
			if served == "" {
				return nil
			}
			if _, err = c.Resource(ctx, crd.Spec.Group+"/"+served, crd.Spec.Names.Kind); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("not Established")
			}
			return fmt.Errorf("CRD %s after %s: %w", name, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}

// Problem is one object the API server refused, with its message.
type Problem struct {
	Object  string
	Message string
}

func (p Problem) String() string { return p.Object + ": " + strings.TrimSpace(p.Message) }
