#!/usr/bin/env python3
"""Runs every fenced shell command of README.md and docs/http-api.md against the demo.

The demo store is built as scripts/demo.sh builds it (the demo data generator, then
`signalbox replay` of examples/demo.yaml) in a fresh folder laid out like the repository
(build/src/signalbox/cli/signalbox, build/examples/signalbox-demo-data, examples/demo.yaml),
which the commands run in. The blocks of one document run in order in one bash script, with
`set -euo pipefail`, so a variable set in one block (stream time) serves the next; `curl`
fails on an HTTP error (--fail-with-body) and retries while a server is still starting.
README.md runs first, without a server (its block starts and stops its own); then
`signalbox serve` runs the demo for docs/http-api.md. The port 8080 of the documents becomes
a free one.

A block preceded by a line `<!-- doc-test: skip (why) -->` is not run: installs, builds and
benchmarks. The reason is required, and at most kMaxSkipped blocks may be skipped.

usage: doc_commands_test.py --signalbox BIN --demo-data BIN --source-dir DIR --work-dir DIR
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from free_ports import free_port  # noqa: E402

DOCUMENTS = ["README.md", "docs/http-api.md"]
SHELL_FENCES = {"sh", "bash", "shell", "console"}
SKIP = re.compile(r"^<!--\s*doc-test:\s*skip\s*\((.+)\)\s*-->\s*$")
MAX_SKIPPED = 4
PRELUDE = """set -euo pipefail
shopt -s expand_aliases
curl() { command curl --fail-with-body --retry 30 --retry-connrefused --retry-delay 1 --max-time 60 "$@"; }
"""


class Block:
    def __init__(self, document, line, text):
        self.document = document
        self.line = line
        self.text = text


def blocks_of(path, document):
    """The shell blocks of `path` to run, and the (line, reason) of each one skipped."""
    run, skipped = [], []
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m or not m.group(1):
            i += 1
            continue
        start = i
        end = start + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if m.group(1) in SHELL_FENCES:
            before = lines[start - 1] if start > 0 else ""
            skip = SKIP.match(before)
            if skip:
                skipped.append((start + 1, skip.group(1)))
            elif "doc-test" in before:
                raise SystemExit(f"{document}:{start}: malformed annotation {before!r}; "
                                 "write <!-- doc-test: skip (why) -->")
            else:
                run.append(Block(document, start + 1, "\n".join(lines[start + 1:end])))
        i = end + 1
    return run, skipped


def prepare(args, root, port):
    """The repository-like folder the commands run in, with the demo store loaded."""
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "build/src/signalbox/cli"))
    os.makedirs(os.path.join(root, "build/examples"))
    os.makedirs(os.path.join(root, "bin"))
    os.symlink(os.path.abspath(args.signalbox), os.path.join(root, "build/src/signalbox/cli/signalbox"))
    os.symlink(os.path.abspath(args.signalbox), os.path.join(root, "bin/signalbox"))
    os.symlink(os.path.abspath(args.demo_data), os.path.join(root, "build/examples/signalbox-demo-data"))
    demo = open(os.path.join(args.source_dir, "examples/demo.yaml"), encoding="utf-8").read()
    demo, n = re.subn(r"127\.0\.0\.1:8080", f"127.0.0.1:{port}", demo)
    if n != 1:
        raise SystemExit("examples/demo.yaml: expected one server address 127.0.0.1:8080")
    os.makedirs(os.path.join(root, "examples"))
    with open(os.path.join(root, "examples/demo.yaml"), "w", encoding="utf-8") as f:
        f.write(demo)
    for command in (["build/examples/signalbox-demo-data", "--out", "examples/data"],
                    ["build/src/signalbox/cli/signalbox", "replay", "-q", "--config", "examples/demo.yaml",
                     "examples/data/events.ndjson"]):
        r = subprocess.run(command, cwd=root, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited {r.returncode}:\n{r.stderr}")


def script_of(blocks, port):
    parts = [PRELUDE]
    for b in blocks:
        text = re.sub(r"(localhost|127\.0\.0\.1):8080", rf"\g<1>:{port}", b.text)
        parts.append(f'echo "### {b.document}:{b.line}" >&2\n{text}\n')
    parts.append("wait\n")  # a server a block started and stopped has finished exiting
    return "\n".join(parts)


def run_document(root, document, blocks, port):
    env = dict(os.environ, PATH=os.path.join(root, "bin") + os.pathsep + os.environ["PATH"])
    env.pop("SIGNALBOX_DIR", None)
    r = subprocess.run(["bash", "-c", script_of(blocks, port)], cwd=root, env=env, capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        where = re.findall(r"^### (.+)$", r.stderr, re.M)
        block = where[-1] if where else document
        print(f"FAIL: the block at {block} exited {r.returncode}\n--- stdout\n{r.stdout[-4000:]}\n"
              f"--- stderr\n{r.stderr[-4000:]}", file=sys.stderr)
        return False
    print(f"ok    {document}: {len(blocks)} blocks")
    return True


def start_server(root):
    server = subprocess.Popen(["build/src/signalbox/cli/signalbox", "serve", "--config", "examples/demo.yaml"],
                              cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = ""
    deadline = time.time() + 60
    while time.time() < deadline:
        line = server.stderr.readline()
        if not line:
            break
        log += line
        if "listening on" in line:
            return server
    server.kill()
    raise SystemExit(f"signalbox serve did not start:\n{log}")


def main():
    parser = argparse.ArgumentParser()
    for name in ("--signalbox", "--demo-data", "--source-dir", "--work-dir"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    documents = []
    skipped_total = 0
    for document in DOCUMENTS:
        run, skipped = blocks_of(os.path.join(args.source_dir, document), document)
        for line, reason in skipped:
            print(f"skip  {document}:{line}: {reason}")
        skipped_total += len(skipped)
        if not run:
            raise SystemExit(f"{document}: no shell block to run")
        documents.append((document, run))
    if skipped_total > MAX_SKIPPED:
        raise SystemExit(f"{skipped_total} blocks are skipped, more than {MAX_SKIPPED}: run them instead")

    root = os.path.abspath(os.path.join(args.work_dir, "repo"))
    port = free_port()
    prepare(args, root, port)
    ok = run_document(root, *documents[0], port)
    server = start_server(root)
    try:
        for document, blocks in documents[1:]:
            ok = run_document(root, document, blocks, port) and ok
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        if code != 0:
            print(f"FAIL: signalbox serve exited {code} after SIGTERM", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
