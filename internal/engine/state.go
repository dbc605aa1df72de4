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
