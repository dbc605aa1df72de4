package engine

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DamagedStateError refuses to run on a stack whose state file in a file backend cannot be
// read: the engine would fail on it or, worse, a tool could start a fresh stack over it. It
// names the file, why it is damaged, and the last good copies the engine keeps.
type DamagedStateError struct {
	Stack string
	// File is the damaged checkpoint; Problem why it cannot be read.
	File, Problem string
	// Backup is the engine's copy of the previous checkpoint beside it (<file>.bak), when it
	// reads; Older is the newest readable copy in the backend's backups directory.
	Backup, Older string
}

func (e *DamagedStateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the state of stack %s is damaged: %s: %s; nothing was run", e.Stack, e.File, e.Problem)
	switch {
	case e.Backup != "":
		fmt.Fprintf(&b, "\nfix: restore the engine's previous checkpoint: cp %s %s (keep the damaged file first if you want to inspect it), then make up STACK=%s: it converges from there", e.Backup, e.File, e.Stack)
		if e.Older != "" {
			fmt.Fprintf(&b, "\n     an older copy is %s", e.Older)
		}
	case e.Older != "":
		fmt.Fprintf(&b, "\nfix: restore the newest backup the engine kept: cp %s %s, then make up STACK=%s (objects created after that backup are in the cluster but not in it: pulumi refresh, or import them)", e.Older, e.File, e.Stack)
	default:
		fmt.Fprintf(&b, "\nfix: no readable backup is left; restore %s from your own backups (never delete it to start over: the stack's objects would be orphaned)", e.File)
	}
	return b.String()
}

// CheckState reads the checkpoint of stack (of project) in the file backend at backendURL and
// returns a *DamagedStateError when it exists but is not a readable Pulumi checkpoint. A stack
// without a checkpoint, and other backends, are fine.
func CheckState(backendURL, project, stack string) error {
	u, err := url.Parse(backendURL)
	if err != nil || u.Scheme != "file" {
		return nil
	}
	base := filepath.Join(u.Path, ".pulumi", "stacks", project, stack+".json")
	for _, file := range []string{base, base + ".gz", base + ".zst"} {
		if _, err := os.Stat(file); err != nil {
			continue
		}
		problem := readable(file)
		if problem == "" {
			if p := sidecarReadable(file + AttrsExt); p != "" {
				return &DamagedSidecarError{Stack: stack, File: file + AttrsExt, Problem: p}
			}
			return nil
		}
		e := &DamagedStateError{Stack: stack, File: file, Problem: problem}
		if readable(file+".bak") == "" {
			e.Backup = file + ".bak"
		}
		backups, _ := filepath.Glob(filepath.Join(u.Path, ".pulumi", "backups", project, stack, stack+".*.json*"))
		sort.Sort(sort.Reverse(sort.StringSlice(backups))) // names carry a nanosecond timestamp
		for _, bk := range backups {
			if !strings.HasSuffix(bk, ".attrs") && readable(bk) == "" {
				e.Older = bk
				break
			}
		}
		return e
	}
	return nil
}

// readable is "" when file holds a Pulumi checkpoint (JSON, gzip-compressed JSON), else why
// not.
func readable(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return "gzip: " + err.Error()
		}
		if b, err = io.ReadAll(zr); err != nil {
			return "gzip: " + err.Error()
		}
	}
	if strings.HasSuffix(file, ".zst") {
		return "" // zstd checkpoints are left to the engine
	}
	var cp struct {
		Version    *int            `json:"version"`
		Checkpoint json.RawMessage `json:"checkpoint"`
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Sprintf("not valid JSON at byte %d of %d (%v): truncated or overwritten", se.Offset, len(b), err)
		}
		return fmt.Sprintf("not a Pulumi checkpoint (%v)", err)
	}
	if cp.Version == nil || len(cp.Checkpoint) == 0 {
		return "not a Pulumi checkpoint (no version or checkpoint field)"
	}
	return ""
}

// AttrsExt is the suffix of the metadata file the file backend's blob store (gocloud.dev
// fileblob) writes beside every blob, the checkpoint included: its content type and checksum,
// as JSON. It is written separately from the blob, so that a run killed at the wrong moment
// can leave it empty while the checkpoint beside it is whole; the engine then refuses to load
// the stack ("failed to load checkpoint: EOF").
const AttrsExt = ".attrs"

// DamagedSidecarError is a whole checkpoint whose blob metadata file (File, the checkpoint's
// name + AttrsExt) cannot be read. The file holds no state: `make unlock` removes it (the
// blob store reads a blob without one), which is the recovery of a killed run anyway.
type DamagedSidecarError struct {
	Stack, File, Problem string
}

func (e *DamagedSidecarError) Error() string {
	return fmt.Sprintf("the state of stack %s cannot be loaded: the metadata file %s beside its checkpoint is damaged (%s), as a run killed while saving leaves it; the checkpoint itself is whole and nothing was run\nfix: make unlock STACK=%s (it removes that metadata file, which holds no state, and the lock of the killed run), then make up STACK=%s", e.Stack, e.File, e.Problem, e.Stack, e.Stack)
}

// sidecarReadable says why the blob metadata file at path cannot be decoded ("" when it
// reads or does not exist).
func sidecarReadable(path string) string {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		return err.Error()
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		if len(b) == 0 {
			return "empty"
		}
		return fmt.Sprintf("not valid JSON (%v)", err)
	}
	return ""
}

// PendingOperation is an operation the engine had started and not finished when its run
// ended: the object may have been created, changed or deleted without the state knowing.
type PendingOperation struct {
	// Type is the operation: creating, updating, deleting, reading, importing.
	Type string `json:"type"`
	// Resource is the resource it was for.
	Resource struct {
		URN  string `json:"urn"`
		Type string `json:"type"`
	} `json:"resource"`
}

func (p PendingOperation) String() string {
	name := p.Resource.URN
	if i := strings.LastIndex(name, "::"); i >= 0 {
		name = name[i+2:]
	}
	return p.Type + " " + p.Resource.Type + " " + name
}

// PendingOperations reads the pending operations of the stack's checkpoint in a file backend
// (none for another backend or a stack without a checkpoint).
func PendingOperations(backendURL, project, stack string) ([]PendingOperation, error) {
	u, err := url.Parse(backendURL)
	if err != nil || u.Scheme != "file" {
		return nil, nil
	}
	file := filepath.Join(u.Path, ".pulumi", "stacks", project, stack+".json")
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cp struct {
		Checkpoint struct {
			Latest struct {
				PendingOperations []PendingOperation `json:"pending_operations"`
			} `json:"latest"`
		} `json:"checkpoint"`
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("read the pending operations of %s: %w", file, err)
	}
	return cp.Checkpoint.Latest.PendingOperations, nil
}
