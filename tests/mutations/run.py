#!/usr/bin/env python3
"""Mutation testing by hand-picked, realistic one-line mistakes.

Each entry of tests/mutations/catalog.txt names a product file, an exact piece of one line to
replace (`from`, which must occur exactly once in the file), its replacement (`to`) and the ctest
regular expression of the tests expected to catch it (`caught-by`). For every entry this script

  1. writes the mutated file,
  2. rebuilds (`cmake --build BUILD`),
  3. runs `ctest --test-dir BUILD -R CAUGHT_BY` (or the whole suite with --all-tests),
  4. restores the file, whatever happened,

and reports the mutation as *killed* (a test failed, or the build did), or *SURVIVED* (every
test passed: the suite cannot see that mistake). At the end it rebuilds the restored tree.

Usage:
    tests/mutations/run.py [--build build] [--only NAME[,NAME]] [--all-tests] [--list]

Exit status 0 when every mutation was killed, 1 when one survived or a `from` text no longer
matches its file (the catalog must follow the code), 2 on a usage error. It rewrites product
files while it runs: run it on a clean checkout (it refuses uncommitted changes to the files it
mutates) and let it finish.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.txt")
FIELDS = ("file", "from", "to", "caught-by", "why")


def read_catalog(path):
    """[name] blocks of `key: value` lines; '#' starts a comment line."""
    entries, current = [], None
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            header = re.fullmatch(r"\[([\w.-]+)\]", line.strip())
            if header:
                current = {"name": header.group(1), "line": number}
                entries.append(current)
                continue
            key, sep, value = line.partition(": ")
            if current is None or not sep or key not in FIELDS:
                sys.exit(f"{path}:{number}: expected '[name]' or one of {', '.join(FIELDS)}")
            current[key] = value
    for e in entries:
        missing = [k for k in FIELDS[:4] if k not in e]
        if missing:
            sys.exit(f"{path}:{e['line']}: [{e['name']}] lacks {', '.join(missing)}")
    return entries


def run(cmd, log, timeout):
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        try:
            return subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            out.write("(timed out)\n")
            return 124


def main():
    # A SIGTERM (a timeout around this script) must still restore the mutated file.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("mutations: terminated; file restored"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="the configured build folder")
    parser.add_argument("--only", help="comma-separated mutation names")
    parser.add_argument("--all-tests", action="store_true", help="run the whole suite each time")
    parser.add_argument("--list", action="store_true", help="print the catalog and stop")
    parser.add_argument("--log", default="/tmp/catdog-mutations.log")
    args = parser.parse_args()

    entries = read_catalog(CATALOG)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {e["name"] for e in entries}
        if unknown:
            print(f"unknown mutation(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        entries = [e for e in entries if e["name"] in wanted]
    if args.list:
        for e in entries:
            print(f"{e['name']:<32} {e['file']}: {e['from']!r} -> {e['to']!r}  [{e['caught-by']}]")
        return 0
    build = os.path.join(ROOT, args.build)
    if not os.path.isfile(os.path.join(build, "CMakeCache.txt")):
        print(f"{build} is not a configured build folder (cmake --preset default first)",
              file=sys.stderr)
        return 2
    dirty = subprocess.run(["git", "status", "--porcelain", "--"] +
                           sorted({e["file"] for e in entries}), cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        print(f"uncommitted changes in files to mutate:\n{dirty}", file=sys.stderr)
        return 2
    open(args.log, "w").close()

    results = []
    for e in entries:
        path = os.path.join(ROOT, e["file"])
        original = open(path).read()
        count = original.count(e["from"])
        if count != 1:
            results.append((e, "STALE", f"'from' occurs {count} times in {e['file']}"))
            continue
        start = time.time()
        try:
            with open(path, "w") as f:
                f.write(original.replace(e["from"], e["to"]))
            if run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)], args.log,
                   1800) != 0:
                verdict, detail = "killed", "by the build"
            else:
                ctest = ["ctest", "--test-dir", build, "-j", str(os.cpu_count() or 2),
                         "--timeout", "600"]
                if not args.all_tests:
                    ctest += ["-R", e["caught-by"]]
                rc = run(ctest, args.log, 3600)
                verdict = "killed" if rc != 0 else "SURVIVED"
                detail = "tests " + ("(all)" if args.all_tests else e["caught-by"])
        finally:
            with open(path, "w") as f:
                f.write(original)
        results.append((e, verdict, f"{detail}, {time.time() - start:.0f} s"))
        print(f"{verdict:<8} {e['name']:<32} {results[-1][2]}", flush=True)

    run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)], args.log, 1800)
    bad = [r for r in results if r[1] != "killed"]
    print(f"\n{len(results) - len(bad)} of {len(results)} mutations killed; log: {args.log}")
    for e, verdict, detail in bad:
        print(f"  {verdict}: [{e['name']}] {e['file']}: {detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
