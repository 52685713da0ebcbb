#!/usr/bin/env python3
"""Latency from saving a manifest to `intsync watch` printing the new plan.

Runs the release binary on a copy of `manifests/` against the embedded `local` target (after an
apply, so each save is an update), with the default 100 ms debounce. Each round rewrites one
manifest's description, alternately in place and editor-style (write a temp file, rename it over),
and times the save until the plan's `Plan:` summary line that follows the new value is on stdout.

    python3 scripts/bench-watch.py [ROUNDS]      # default 30
"""

import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 30


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "intsync")
    work = tempfile.mkdtemp(prefix="intsync-bench-watch-")
    try:
        shutil.copytree(os.path.join(ROOT, "manifests"), os.path.join(work, "manifests"))
        shutil.copytree(os.path.join(ROOT, "schemas"), os.path.join(work, "schemas"))
        env = dict(os.environ, NO_COLOR="1")
        env.pop("RUST_LOG", None)
        subprocess.run([binary, "apply", "--auto-approve"], cwd=work, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = os.path.join(work, "manifests", "acme-helpdesk.yaml")
        original = open(target, encoding="utf-8").read()
        assert re.search(r"^  description: .*$", original, re.M), "no description line to edit"

        child = subprocess.Popen([binary, "watch"], cwd=work, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True, bufsize=1)
        lines = queue.Queue()

        def pump():
            for line in child.stdout:
                lines.put((time.perf_counter(), line))

        threading.Thread(target=pump, daemon=True).start()

        def wait_for(marker):
            """Time at which the `Plan:` line following a line containing `marker` arrived."""
            seen = False
            deadline = time.perf_counter() + 5
            while True:
                at, line = lines.get(timeout=max(0.0, deadline - time.perf_counter()))
                seen = seen or (marker is None or marker in line)
                if seen and line.startswith("Plan: "):
                    return at

        wait_for(None)  # the plan printed at start
        latencies = []
        for i in range(ROUNDS):
            marker = f"bench round {i}"
            text = re.sub(r"^  description: .*$", f"  description: {marker}", original, count=1,
                          flags=re.M)
            time.sleep(0.3)  # let the previous round's events settle
            saved = time.perf_counter()
            if i % 2 == 0:
                with open(target, "w", encoding="utf-8") as f:
                    f.write(text)
            else:
                tmp = target + ".swp"
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(text)
                os.replace(tmp, target)
            latencies.append(wait_for(marker) - saved)
        child.terminate()
        child.wait(timeout=10)

        ms = sorted(x * 1000 for x in latencies)
        p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
        print(f"save → printed plan over {len(ms)} saves (debounce 100 ms): "
              f"min {ms[0]:.0f} ms, median {statistics.median(ms):.0f} ms, "
              f"p90 {p90:.0f} ms, max {ms[-1]:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
