"""Runs the Python example (examples/python) through the Pulumi Automation API with an inline
program (the Automation API serves the program itself, so no pulumi-language-python plugin is
involved). tests/examples/python_test.go runs it with the example venv's python and checks the
JSON summary printed as the LAST line on stdout; the engine's own output goes to stderr.

    python_driver.py --example DIR --work-dir DIR --stack NAME --project-dir DIR [--copy-render DIR]
    python_driver.py --sdk-use-only FILE

Steps, in order:
  sdk-use   the example's source (upstream_tls_example.py, or FILE) against the installed SDK:
            every SDK input class is constructed, with every parameter it has and no other, and
            each value read with o.take/o.object/o.objects from the configuration key the SDK
            serialises that parameter as (see check_sdk_use);
  create    the stack (work-dir holds Pulumi.yaml and Pulumi.<stack>.yaml; the backend and the
            passphrase come from the environment: PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE);
  up        the first up; with --copy-render, the rendered YAML (the stack output renderDir) is
            copied to that directory, before destroy deletes it;
  up-again  a second up, expect_no_changes;
  destroy   destroy, and the number of resources left in the exported state.
project-dir is what relative configuration paths are relative to. Exit status 1 when a step
failed (the summary names it and carries the error); later steps are skipped, except that destroy
is still attempted after a failed up so that nothing is left behind.
"""

import argparse
import ast
import inspect
import json
import os
import shutil
import sys
import time
import traceback

READERS = ("take", "object", "objects")  # the example's _Object readers; the key comes first


def check_sdk_use(path: str) -> list:
    """Problems ("line:col: ...") of the example at path against the installed upstream_tls: its
    input classes (upstream_tls._inputs) and UpstreamTlsArgs."""
    import upstream_tls

    classes = {
        name: cls
        for name, cls in vars(upstream_tls).items()
        if inspect.isclass(cls)
        and name.endswith("Args")
        and (cls.__module__ == "upstream_tls._inputs" or name == "UpstreamTlsArgs")
    }
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    problems, created = [], set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        cls = classes.get(name)
        if cls is None:
            continue
        created.add(name)
        at = f"{node.lineno}:{node.col_offset + 1}"
        params = [p for p in inspect.signature(cls.__init__).parameters if p != "__self__"]
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        for kw, value in keywords.items():
            if kw not in params:
                problems.append(f"{value.lineno}:{value.col_offset + 1}: {name} has no parameter {kw}")
                continue
            prop = getattr(cls, kw, None)
            schema_name = getattr(getattr(prop, "fget", None), "_pulumi_name", None) or kw
            reads = (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr in READERS
                and value.args
                and isinstance(value.args[0], ast.Constant)
            )
            if reads and value.args[0].value != schema_name:
                problems.append(
                    f"{value.lineno}:{value.col_offset + 1}: {name}.{kw} is read from key {value.args[0].value!r}, "
                    f"the SDK serialises it as {schema_name!r}"
                )
        for p in params:
            if p not in keywords:
                problems.append(f"{at}: {name}.{p} is not set: the example maps every input of the schema")
    for name in sorted(set(classes) - created):
        problems.append(f"1:1: {name} is never constructed: the example maps every input type of the schema")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--example")
    ap.add_argument("--work-dir")
    ap.add_argument("--stack")
    ap.add_argument("--project-dir")
    ap.add_argument("--copy-render")
    ap.add_argument("--sdk-use-only", metavar="FILE")
    args = ap.parse_args()
    if not args.sdk_use_only and not (args.example and args.work_dir and args.stack and args.project_dir):
        ap.error("--example, --work-dir, --stack and --project-dir are required (or --sdk-use-only FILE)")

    summary = {"steps": [], "ok": False}

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def step(name, fn):
        start = time.monotonic()
        entry = {"name": name}
        summary["steps"].append(entry)
        try:
            entry.update(fn())
            entry["ok"] = True
        except Exception as e:  # noqa: BLE001 - every failure is reported in the summary
            entry["ok"] = False
            entry["error"] = f"{type(e).__name__}: {e}"
            traceback.print_exc(file=sys.stderr)
        entry["seconds"] = round(time.monotonic() - start, 1)
        log(f"python_driver: {name}: {'ok' if entry['ok'] else 'FAILED'} in {entry['seconds']}s")
        return entry["ok"]

    def sdk_use(path):
        def run():
            problems = check_sdk_use(path)
            if problems:
                raise AssertionError(f"{len(problems)} problem(s):\n" + "\n".join(f"{path}:{p}" for p in problems))
            return {}
        return run

    if args.sdk_use_only:
        summary["ok"] = step("sdk-use", sdk_use(args.sdk_use_only))
        print(json.dumps(summary, default=str), flush=True)
        return 0 if summary["ok"] else 1

    sys.path.insert(0, args.example)
    from pulumi import automation as auto
    import upstream_tls_example

    stack = None

    def create():
        nonlocal stack
        stack = auto.create_or_select_stack(
            stack_name=args.stack,
            project_name="upstream-tls",
            program=lambda: upstream_tls_example.upstream_tls_program(args.project_dir),
            opts=auto.LocalWorkspaceOptions(work_dir=args.work_dir),
        )
        return {}

    def up(expect_no_changes: bool):
        def run():
            res = stack.up(on_output=log, expect_no_changes=expect_no_changes or None)
            if args.copy_render and not expect_no_changes:
                shutil.copytree(res.outputs["renderDir"].value, args.copy_render)
            return {
                "result": res.summary.result,
                "resourceChanges": dict(res.summary.resource_changes or {}),
                "outputs": {k: v.value for k, v in res.outputs.items()},
            }
        return run

    def destroy():
        res = stack.destroy(on_output=log)
        deployment = stack.export_stack().deployment or {}
        return {
            "result": res.summary.result,
            "resourceChanges": dict(res.summary.resource_changes or {}),
            "resourcesLeft": len(deployment.get("resources") or []),
        }

    example_file = os.path.join(args.example, "upstream_tls_example.py")
    if step("sdk-use", sdk_use(example_file)) and step("create", create):
        ok = step("up", up(False)) and step("up-again", up(True))
        ok = step("destroy", destroy) and ok
        summary["ok"] = ok
    print(json.dumps(summary, default=str), flush=True)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
