// Runs index.ts as an inline Automation API program against the `pulumi` CLI on PATH: the
// program is served by this Node.js process (no pulumi-language-nodejs needed); the engine loads
// the provider plugins (pulumi-resource-upstream-tls, pulumi-resource-kubernetes) from PATH.
//
//   node bin/automation.js --work-dir DIR --stack NAME [--config key=value]... [step...]
//
// Steps, run in order (default: up up-no-changes destroy):
//   preview          preview the stack
//   up               update the stack
//   up-no-changes    update again, failing unless nothing changes (expectNoChanges)
//   destroy          destroy the stack's resources
// The backend and secrets passphrase come from the environment (PULUMI_BACKEND_URL,
// PULUMI_CONFIG_PASSPHRASE). Each finished step prints one JSON line on stdout:
//   {"step": "up", "result": "succeeded", "changes": {"create": 40}, "outputs": {...}}
// The engine's own output goes to stderr. Any failure exits 1 after printing the error.
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import program = require("./index");

const projectName = "upstream-tls-typescript";

interface Args {
    workDir: string;
    stackName: string;
    config: Record<string, string>;
    steps: string[];
}

function parseArgs(argv: string[]): Args {
    const args: Args = { workDir: "", stackName: "", config: {}, steps: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined) {
                throw new Error(`${a} needs a value`);
            }
            return v;
        };
        if (a === "--work-dir") {
            args.workDir = value();
        } else if (a === "--stack") {
            args.stackName = value();
        } else if (a === "--config") {
            const kv = value();
            const eq = kv.indexOf("=");
            if (eq <= 0) {
                throw new Error(`--config ${kv}: want key=value`);
            }
            args.config[kv.slice(0, eq)] = kv.slice(eq + 1);
        } else if (a.startsWith("-")) {
            throw new Error(`unknown flag ${a}`);
        } else {
            args.steps.push(a);
        }
    }
    if (!args.workDir || !args.stackName) {
        throw new Error("--work-dir and --stack are required");
    }
    if (args.steps.length === 0) {
        args.steps = ["up", "up-no-changes", "destroy"];
    }
    return args;
}

function report(step: string, result: string, changes: Record<string, number> | undefined, outputs?: Record<string, unknown>) {
    process.stdout.write(JSON.stringify({ step, result, changes: changes ?? {}, outputs: outputs ?? {} }) + "\n");
}

function plainOutputs(outputs: Record<string, { value: unknown; secret: boolean }>): Record<string, unknown> {
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(outputs)) {
        plain[k] = v.secret ? "[secret]" : v.value;
    }
    return plain;
}

async function runStep(stack: Stack, step: string) {
    const onOutput = (out: string) => process.stderr.write(out);
    switch (step) {
        case "preview": {
            const res = await stack.preview({ onOutput, diff: false });
            report(step, "succeeded", res.changeSummary as Record<string, number>);
            return;
        }
        case "up":
        case "up-no-changes": {
            const res = await stack.up({ onOutput, expectNoChanges: step === "up-no-changes" });
            report(step, res.summary.result, res.summary.resourceChanges as Record<string, number> | undefined, plainOutputs(res.outputs));
            return;
        }
        case "destroy": {
            const res = await stack.destroy({ onOutput });
            report(step, res.summary.result, res.summary.resourceChanges as Record<string, number> | undefined);
            return;
        }
        default:
            throw new Error(`unknown step ${step}`);
    }
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: args.stackName, projectName, program },
        { workDir: args.workDir },
    );
    for (const [k, v] of Object.entries(args.config)) {
        await stack.setConfig(k, { value: v });
    }
    for (const step of args.steps) {
        await runStep(stack, step);
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`automation: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
});
