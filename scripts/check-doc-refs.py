#!/usr/bin/env python3
"""Check that the code the docs point at exists.

The docs name code in one form, always inside one pair of backticks:

    `path/to/file.ext: name`

`path` is relative to the repository root and has at least one slash and an extension; `name` is
what the reader should find in that file:

  - in a C++/CUDA file, a function or method, plain (`conv2d_forward_nhwc`) or qualified
    (`Sequential::backward`), found where it is defined or declared: `name(` preceded by a return
    type (`void name(`, `const Tensor& Sequential::forward(`) or at the start of a line
    (`FeatureCache::FeatureCache(`). A call (`  x = name(`, `if (name(`) does not count. A class,
    struct or enum name (`class FeatureCache`) and a macro (`#define NAME`) count too;
  - in a test file, `Suite.Name`: the test `TEST(Suite, Name)` (or TEST_F, TEST_P) at the start
    of a line (not in a comment);
  - in a shell script, a function (`name() {`) or a variable it sets (`NAME=`);
  - in a Python file, `def name`, `class name`, or `name =` at the top level;
  - in any other file, the name as a whole word.

A reference must stay on one line; a backtick span that ends a line with `path:` is reported as
split. To show the pattern itself without it being checked, put it in a double-backtick span
(``...``): those are skipped.

Besides, every relative Markdown link or image (`[text](docs/img/x.svg)`) that stays inside the
repository must name a file or folder that exists. Links that leave the repository (`../shared/`)
and web addresses are not checked. Fenced code blocks are skipped.

Usage:
    scripts/check-doc-refs.py [--root DIR] [FILE.md ...]   default: README.md and docs/*.md
    scripts/check-doc-refs.py --self-test                   the checker on tests/fixtures/doc_refs

Exit status: 0 when every reference resolves; 1 when any does not (each broken one is listed as
`file:line: `path: name`: why`) or when no reference was found at all; 2 on a usage error.
"""

import argparse
import os
import re
import subprocess
import sys

REF_RE = re.compile(r"`([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+\.[A-Za-z0-9]+): ([A-Za-z_~][\w:.~]*)`")
SPLIT_RE = re.compile(r"`([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+\.[A-Za-z0-9]+):\s*$")
DOUBLE_TICK_RE = re.compile(r"``.*?``")
LINK_RE = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE_RE = re.compile(r"^\s*(```|~~~)")

C_FAMILY = {".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".cu", ".cuh"}
# Words that can stand before `name(` in a statement that is not a definition.
NOT_A_TYPE = {"return", "else", "new", "delete", "throw", "case", "goto", "sizeof", "do",
              "co_return", "co_await", "co_yield", "not", "and", "or"}
TYPE_TOKEN_RE = re.compile(r"^[\w:<>,\[\]]+[*&]*$")


def read_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def cxx_defines(text, name):
    """Whether C++/CUDA source `text` defines or declares `name` (see the module docstring)."""
    escaped = re.escape(name)
    # Not on comment lines: "// the Keras class name" declares nothing.
    if re.search(r"^(?!\s*(?://|/?\*))[^\n]*?\b(?:class|struct|union|enum(?:\s+class)?)\s+(?:\w+\s+)?" +
                 escaped + r"\b", text, re.M):
        return True
    if re.search(r"^\s*#\s*define\s+" + escaped + r"\b", text, re.M):
        return True
    if re.search(r"\busing\s+" + escaped + r"\s*=", text):
        return True
    # `name(`, optionally qualified further (`catdog::SGD::step(` for `SGD::step` or `step`).
    call_re = re.compile(r"(?<![\w.:>])((?:[A-Za-z_]\w*::)*)" + escaped + r"\s*\(")
    for line in text.splitlines():
        for m in call_re.finditer(line):
            prefix = line[:m.start()]
            if prefix == "":
                return True  # at column 0: a definition (calls are always indented)
            tokens = prefix.split()
            if not tokens:
                continue  # indented, nothing before: a call statement
            if any(t in NOT_A_TYPE for t in tokens):
                continue
            if all(TYPE_TOKEN_RE.match(t) or re.match(r"^[*&]+$", t) for t in tokens):
                return True
    return False


def test_defined(text, name):
    suite, _, test = name.partition(".")
    pattern = (r"^\s*(?:TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)\(\s*" + re.escape(suite) +
               r"\s*,\s*" + re.escape(test) + r"\s*\)")
    return re.search(pattern, text, re.M) is not None


def shell_defines(text, name):
    n = re.escape(name)
    return re.search(r"^\s*(?:function\s+" + n + r"\b|" + n + r"\s*\(\s*\)|(?:export\s+|readonly\s+|local\s+)?" + n + r"=)",
                     text, re.M) is not None


def python_defines(text, name):
    n = re.escape(name.split(".")[-1])
    return re.search(r"^\s*(?:(?:async\s+)?def|class)\s+" + n + r"\b|^" + n + r"\s*=", text, re.M) is not None


def check_ref(root, path, name):
    """None when `path: name` resolves under `root`, else the reason it does not."""
    full = os.path.join(root, path)
    if not os.path.isfile(full):
        return "no such file"
    text = read_text(full)
    ext = os.path.splitext(path)[1]
    is_test_name = ext in C_FAMILY and name.count(".") == 1 and "::" not in name
    if is_test_name:
        return None if test_defined(text, name) else "no TEST(%s) in the file" % name.replace(".", ", ")
    if ext in C_FAMILY:
        return None if cxx_defines(text, name) else "'%s' is not defined or declared there" % name
    if ext == ".sh":
        return None if shell_defines(text, name) else "no function or variable '%s' there" % name
    if ext == ".py":
        return None if python_defines(text, name) else "no def, class or assignment '%s' there" % name
    return None if re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", text) else "'%s' does not occur there" % name


def check_link(root, doc, target):
    """None when a relative link from `doc` is fine (or not ours to check), else the reason."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", target) or target.startswith("#"):
        return None  # a web address, mailto:, or an anchor in the same page
    target = target.split("#", 1)[0]
    if not target:
        return None
    resolved = os.path.normpath(os.path.join(os.path.dirname(doc), target))
    root_abs = os.path.abspath(root)
    if os.path.commonpath([os.path.abspath(resolved), root_abs]) != root_abs:
        return None  # leaves the repository (e.g. ../shared): not ours to check
    return None if os.path.exists(resolved) else "link target does not exist"


def scan(root, docs):
    """(references found, list of (doc, line, text, why) for the broken ones)."""
    found = 0
    broken = []
    for doc in docs:
        in_fence = False
        for number, line in enumerate(read_text(doc).splitlines(), 1):
            if FENCE_RE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            code = DOUBLE_TICK_RE.sub("", line)
            for m in REF_RE.finditer(code):
                found += 1
                why = check_ref(root, m.group(1), m.group(2))
                if why:
                    broken.append((doc, number, m.group(0), why))
            m = SPLIT_RE.search(code)
            if m:
                broken.append((doc, number, m.group(0), "reference split across lines (keep path and name on one line)"))
            for m in LINK_RE.finditer(line):
                why = check_link(root, doc, m.group(1))
                if why:
                    broken.append((doc, number, "(%s)" % m.group(1), why))
    return found, broken


def default_docs(root):
    docs = []
    readme = os.path.join(root, "README.md")
    if os.path.isfile(readme):
        docs.append(readme)
    docs_dir = os.path.join(root, "docs")
    if os.path.isdir(docs_dir):
        docs += sorted(os.path.join(docs_dir, f) for f in os.listdir(docs_dir) if f.endswith(".md"))
    return docs


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Check the `path: name` references of the docs.")
    parser.add_argument("--root", default=os.path.dirname(here), help="repository root")
    parser.add_argument("--self-test", action="store_true", help="check the checker on its fixture")
    parser.add_argument("docs", nargs="*", help="Markdown files (default: README.md, docs/*.md)")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test(os.path.join(os.path.dirname(here), "tests", "fixtures", "doc_refs"))
    root = args.root
    docs = [d if os.path.isabs(d) else os.path.join(root, d) for d in args.docs] or default_docs(root)
    missing = [d for d in docs if not os.path.isfile(d)]
    if missing:
        print("check-doc-refs: no such file: " + ", ".join(missing), file=sys.stderr)
        return 2
    found, broken = scan(root, docs)
    for doc, number, text, why in broken:
        print("%s:%d: %s: %s" % (os.path.relpath(doc, root), number, text, why))
    if found == 0:
        print("check-doc-refs: no `path: name` reference found in %d file(s); is the pattern "
              "still the one in scripts/check-doc-refs.py?" % len(docs))
        return 1
    print("check-doc-refs: %d references in %d file(s), %d broken" % (found, len(docs), len(broken)))
    return 1 if broken else 0


def self_test(fixture):
    """Run the checker as a program on the fixture's docs and compare what it reports with each
    doc's .expect file (nothing, for a doc without one). Returns the exit status."""
    script = os.path.abspath(__file__)
    failures = []

    def run(doc):
        p = subprocess.run([sys.executable, script, "--root", fixture, doc],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        return p.returncode, p.stdout

    def expected(doc):
        # DOC.expect (when present) lists what must be reported, one `LINE: TEXT` a line.
        out = set()
        path = os.path.join(fixture, os.path.splitext(doc)[0] + ".expect")
        if os.path.isfile(path):
            for line in read_text(path).splitlines():
                m = re.match(r"(\d+): (.*)$", line.strip())
                if m:
                    out.add((int(m.group(1)), m.group(2)))
        return out

    for doc, want_status in (("docs/good.md", 0), ("docs/broken.md", 1), ("docs/empty.md", 1)):
        status, output = run(doc)
        if status != want_status:
            failures.append("%s: exit status %d, expected %d\n%s" % (doc, status, want_status, output))
            continue
        reported = set()
        for line in output.splitlines():
            m = re.match(re.escape(doc) + r":(\d+): (.*?): [^`]*$", line)
            if m:
                reported.add((int(m.group(1)), m.group(2)))
        want = expected(doc)
        if reported != want:
            failures.append("%s: reported %s\n  expected %s" % (doc, sorted(reported), sorted(want)))
    for f in failures:
        print("self-test: FAILED: " + f)
    if not failures:
        print("self-test: ok (good docs pass; every planted broken reference is reported, nothing else)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
