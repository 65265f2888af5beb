"""Run the benchmarks, print one table: `python bench/run.py [--size tiny|full] [--only NAME...]`.

Every module `bench/bench_<name>.py` exposing `async def measure(size)` (bench/figures.py) is
a benchmark called <name>. Each runs in its own Python process (they start stacks and
databases, and the Temporal SDK's runtime is best left behind with the process), which hands
its figures back as JSON in a temporary file; its own output goes to stderr, so stdout holds
the table alone. A missed target is printed as NO, not an error; the exit status is 1 when a
benchmark crashed (or, with `--strict`, missed a target), else 0. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.figures import Figure, table  # noqa: E402

SIZES = ("tiny", "full")


def discover() -> list[str]:
    """The benchmarks' names, from the files `bench/bench_<name>.py`, sorted."""
    return sorted(path.stem.removeprefix("bench_") for path in ROOT.glob("bench/bench_*.py"))


def run_one(name: str, size: str) -> list[Figure]:
    """Run benchmark `name` in a child process; its figures, or RuntimeError saying why not."""
    with tempfile.TemporaryDirectory(prefix="orderflow-bench-run-") as scratch:
        out = Path(scratch) / "figures.json"
        paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        command = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--size", size]
        done = subprocess.run(
            [*command, "--out", str(out)], cwd=ROOT, env=env, stdout=sys.stderr, check=False
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"benchmark {name} crashed (exit status {done.returncode})")
        return [Figure(**row) for row in json.loads(out.read_text())]


def child(name: str, size: str, out: Path) -> None:
    """In the child process: run one benchmark's `measure(size)`, write its figures to `out`
    as JSON and leave at once (os._exit: the SDK's runtime threads can abort a normal exit)."""
    try:
        module = importlib.import_module(f"bench.bench_{name}")
        measure = getattr(module, "measure", None)
        if not inspect.iscoroutinefunction(measure):
            raise TypeError(f"bench/bench_{name}.py has no `async def measure(size)`")
        figures = asyncio.run(measure(size))
        rows = [dataclasses.asdict(figure) for figure in figures]
        out.write_text(json.dumps(rows))
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    known = discover()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"of: {', '.join(known)}")
    parser.add_argument("--strict", action="store_true", help="a missed target fails too")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.size, args.out)
    unknown = sorted(set(args.only or ()) - set(known))
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are: {', '.join(known)}")
    figures: list[Figure] = []
    crashed: list[str] = []
    for name in args.only or known:
        print(f"== bench {name} ({args.size})", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            figures += run_one(name, args.size)
        except RuntimeError as error:
            crashed.append(str(error))
        print(f"== bench {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(table(figures))
    missed = [f for f in figures if f.ok is False]
    for line in crashed:
        print(line)
    if missed:
        print(f"{len(missed)} target(s) missed (met: NO)")
    return 1 if crashed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
