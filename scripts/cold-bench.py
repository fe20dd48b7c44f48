#!/usr/bin/env python3
"""Cold code, whole process: kaleido against Node and LuaJIT in one interleaved run (issue 27).

Each workload is written as a kaleido script, a JavaScript file and a Lua file that do the same
thing; every runner runs every workload ROUNDS times, interleaved (round after round, so the
machine's load falls on all of them alike), and the figures are the medians of CPU time (user +
sys, from wait4) and the largest maximum resident set size. "redefine" is reported per cycle:
(its time - the empty program's time) / cycles.

    scripts/cold-bench.py                         # target/release/kaleido, node, luajit
    scripts/cold-bench.py --rounds 9
    scripts/cold-bench.py --kaleido before=/tmp/old-kaleido --kaleido now=target/release/kaleido
    scripts/cold-bench.py --tier0-calls 0,1,2,3   # one kaleido column per N (tuning N)

A runner that is not installed is left out with a note. Prints a Markdown table.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CYCLES = 10_000


# How each language writes the few things the workloads are made of: a one-parameter definition of a
# body expression (the expressions are written alike in all three), a redefinition of `f`, a top-level
# call whose value is not printed, and fib.
def lua_chunks(lines):
    # A Lua function may hold 65,536 constants (each global name is one): 10,000 definitions per chunk.
    return "".join(f"do local chunk = function ()\n{''.join(lines[i:i + 10_000])}end chunk() end\n"
                   for i in range(0, len(lines), 10_000))


SYNTAX = {
    "kal": {
        "define": lambda name, body: f"def {name}(x) {body}\n",
        "redefine_f": lambda body: f"def f(x) {body}\n",
        # `;` silences the value (the JavaScript and Lua versions print nothing either).
        "call": lambda call: f"{call};\n",
        "fib": "def fib(x) if x < 3 then 1 else fib(x-1) + fib(x-2)\n",
        "chunks": "".join,
    },
    "js": {
        "define": lambda name, body: f"function {name}(x) {{ return {body}; }}\n",
        "redefine_f": lambda body: f"f = function (x) {{ return {body}; }};\n",
        "call": lambda call: f"{call};\n",
        "fib": "function fib(x) { return x < 3 ? 1 : fib(x - 1) + fib(x - 2); }\n",
        "chunks": "".join,
    },
    "lua": {
        "define": lambda name, body: f"function {name}(x) return {body} end\n",
        "redefine_f": lambda body: f"f = function (x) return {body} end\n",
        "call": lambda call: f"{call}\n",
        "fib": "function fib(x) if x < 3 then return 1 else return fib(x - 1) + fib(x - 2) end end\n",
        "chunks": lua_chunks,
    },
}


def sources(ext):
    """Every workload, written in the language of files ending `.ext`."""
    lang = SYNTAX[ext]
    define, call = lang["define"], lang["call"]
    redefine = lang["redefine_f"]("x") + define("g", "f(x) + 1") + "".join(
        lang["redefine_f"](f"x + {i}") + call("g(1)") for i in range(CYCLES))
    chain = define("c0", "x") + "".join(define(f"c{i}", f"c{i - 1}(x) + 1") for i in range(1, 10_000))
    # The chain's end called 1, 3 and 10 times: where tier 0 and compiling trade places (tuning N).
    chains = {name: chain + "".join(call(f"c9999({k})") for k in range(1, calls + 1))
              for name, calls in (("chain", 1), ("chain3", 3), ("chain10", 10))}
    defs = lambda n: lang["chunks"]([define(f"d{i}", f"x + {i}") for i in range(n)]) + call(f"d{n - 1}(1)")
    workloads = {"empty": "", "redefine": redefine, **chains, "defs10k": defs(10_000), "defs100k": defs(100_000),
                 "fib35": lang["fib"] + call("fib(35)")}
    if ext == "kal":
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "..", "examples", "03-operators.kal")) as tutorial:
            workloads["mandelbrot"] = tutorial.read() + "mandel(-2, -1, 0.02, 0.04)\nmandel(-0.9, -1.4, 0.02, 0.03)\n"
    return workloads


def run(command, work):
    """CPU seconds (user + sys) and maximum resident KiB of `command`, from two runs.

    A child's maximum resident size counts the memory of whoever forked it (this Python, holding the
    sources), so a second run is started by GNU time, which is small, and its `%M` is the figure; the CPU
    time comes from the first run, started directly (wait4), so it has no share of time's own.
    """
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    err = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed ({status}): {err[:500]}")
    report = os.path.join(work, "rss")
    subprocess.run(["/usr/bin/time", "-o", report, "-f", "%M"] + command,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open(report) as figures:
        kib = int(figures.read().split()[-1])
    return usage.ru_utime + usage.ru_stime, kib


def runners(args, work):
    """(label, extension, command prefix) for each runner that exists, and the workload files by extension."""
    found = []
    kaleidos = args.kaleido or [f"kaleido={args.default_kaleido}"]
    for spec in kaleidos:
        label, _, path = spec.partition("=")
        if not os.access(path, os.X_OK) or not os.path.exists("/usr/bin/time"):
            sys.exit(f"needs /usr/bin/time and a kaleido binary at {path} (cargo build --release)")
        if args.tier0_calls:
            for n in args.tier0_calls.split(","):
                found.append((f"{label} N={n}", "kal", [path, "--tier0-calls", n]))
        else:
            found.append((label, "kal", [path]))
    for label, ext, program in [("Node", "js", "node"), ("LuaJIT", "lua", "luajit")]:
        if args.no_peers:
            continue
        path = shutil.which(program)
        if path is None:
            print(f"note: `{program}` is not installed; its column is left out", file=sys.stderr)
            continue
        prefix = [path, "--stack-size=65500"] if program == "node" else [path]
        found.append((label, ext, prefix))
    files = {}
    for _, ext, _ in found:
        if ext in files:
            continue
        files[ext] = {}
        for name, text in sources(ext).items():
            path = os.path.join(work, f"{name}.{ext}")
            with open(path, "w") as out:
                out.write(text)
            files[ext][name] = path
    return found, files


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kaleido", action="append", metavar="LABEL=PATH", help="a kaleido binary (repeatable)")
    parser.add_argument("--tier0-calls", metavar="N,N,...", help="run each kaleido once per N")
    parser.add_argument("--no-peers", action="store_true", help="kaleido only")
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    args.default_kaleido = os.path.join(here, "..", "target", "release", "kaleido")
    with tempfile.TemporaryDirectory(prefix="kaleido-cold-") as work:
        found, files = runners(args, work)
        workloads = list(sources("kal").keys())
        times = {(label, w): [] for label, *_ in found for w in workloads}
        rss = {(label, w): 0 for label, *_ in found for w in workloads}
        started = time.time()
        for _ in range(args.rounds):
            for workload in workloads:
                for label, ext, prefix in found:
                    if workload not in files[ext]:
                        continue
                    cpu, kib = run(prefix + [files[ext][workload]], work)
                    times[(label, workload)].append(cpu)
                    rss[(label, workload)] = max(rss[(label, workload)], kib)
        print(f"{args.rounds} interleaved rounds in {time.time() - started:.0f} s; median CPU time (user+sys), max RSS\n")
        print("| workload | " + " | ".join(label for label, *_ in found) + " |")
        print("|---|" + "---|" * len(found))
        for workload in workloads:
            cells = []
            for label, ext, _ in found:
                samples = times[(label, workload)]
                if not samples:
                    cells.append("–")
                    continue
                median = statistics.median(samples)
                if workload == "redefine":
                    empty = statistics.median(times[(label, "empty")])
                    cells.append(f"{(median - empty) / CYCLES * 1e6:.1f} µs/cycle")
                else:
                    cells.append(f"{median * 1000:.1f} ms, {rss[(label, workload)] / 1024:.1f} MB")
            print(f"| {workload} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
