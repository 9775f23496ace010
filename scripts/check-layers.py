#!/usr/bin/env python3
"""Check the house's layers: no #include from a lower layer to a higher one.

The product's folders, each allowed to include only itself and the folders listed beside it
(docs/how-it-works.md, "Where the code lives", draws the same picture):

    core/       Tensor, device memory and streams, errors, random, ExecContext, small enums
    kernels/    one header per op, cpu:: and cuda:: twins             -> core
    layers/     the Layer interface and one file pair per layer kind  -> core, kernels
    engine/     the graph: Sequential, model_config + layer registry, loss, SGD, feature cache,
                train_step                                            -> core, kernels, layers
    data/       dataset, decode, resize, the pipeline (beside the graph) -> core
    weights/    Keras HDF5 and .npy files (beside the graph)          -> core, layers, engine
    training/   the trainer, evaluation, run files                   -> all of the above
    apps/       the command line                                     -> all of the above

Only quoted includes of a project folder count (`#include "engine/sequential.h"`); system and
third-party headers (`<cuda_runtime.h>`) are not the house's business. tests/, benchmarks/ and
fuzz/ stand outside the house and may include anything.

Usage:
    scripts/check-layers.py [--root DIR]   check the tree (default: the repository)
    scripts/check-layers.py --self-test    show that a forbidden include is caught

Exit status: 0 when every include points down or sideways as allowed; 1 when any does not (each
listed as `file:line: includes "x": layer 'a' may include only ...`); 2 on a usage error.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

ALLOWED = {
    "core": {"core"},
    "kernels": {"core", "kernels"},
    "layers": {"core", "kernels", "layers"},
    "engine": {"core", "kernels", "layers", "engine"},
    "data": {"core", "data"},
    "weights": {"core", "layers", "engine", "weights"},
    "training": {"core", "kernels", "layers", "engine", "data", "weights", "training"},
    "apps": {"core", "kernels", "layers", "engine", "data", "weights", "training", "apps"},
}
SOURCE_EXTENSIONS = {".h", ".cpp", ".cu", ".cuh"}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def violations(root):
    """Yield (file, line number, included path, message) for every forbidden include."""
    for layer in sorted(ALLOWED):
        top = os.path.join(root, layer)
        for folder, _, names in os.walk(top):
            for name in sorted(names):
                if os.path.splitext(name)[1] not in SOURCE_EXTENSIONS:
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        match = INCLUDE_RE.match(line)
                        if not match:
                            continue
                        target = match.group(1).split("/")[0]
                        if target in ALLOWED and target not in ALLOWED[layer]:
                            allowed = ", ".join(sorted(ALLOWED[layer]))
                            yield (os.path.relpath(path, root), number, match.group(1),
                                   f"layer '{layer}' may include only {allowed}")


def check(root, out=sys.stdout):
    found = list(violations(root))
    for path, number, included, why in found:
        print(f'{path}:{number}: includes "{included}": {why}', file=out)
    sources = sum(1 for layer in ALLOWED for _, _, names in os.walk(os.path.join(root, layer))
                  for n in names if os.path.splitext(n)[1] in SOURCE_EXTENSIONS)
    if sources == 0:
        print(f"check-layers: no sources under {root}", file=out)
        return 1
    if found:
        print(f"check-layers: {len(found)} forbidden include(s)", file=out)
        return 1
    print(f"check-layers: {sources} files, every include points down", file=out)
    return 0


def self_test():
    """A tiny tree with one include of each kind: allowed ones pass, a forbidden one fails."""
    work = tempfile.mkdtemp(prefix="check-layers-")
    try:
        def write(rel, text):
            path = os.path.join(work, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

        write("core/tensor.h", "#pragma once\n#include <vector>\n")
        write("kernels/relu.h", '#include "core/tensor.h"\n')
        write("engine/sequential.cpp", '#include "layers/layer.h"\n#include "kernels/relu.h"\n')
        write("apps/main.cpp", '#include "training/trainer.h"\n')
        if check(work, out=open(os.devnull, "w")) != 0:
            print("self-test: a tree of allowed includes was refused")
            return 1
        # The mistakes the issue names: the graph reaching up into apps/, a kernel into data/.
        write("engine/trainer.cpp", '#include "apps/progress.h"\n')
        write("kernels/cuda/ops.h", '  #  include "data/augment.h"  // AugmentParams\n')
        listing = []

        class Sink:
            def write(self, text):
                listing.append(text)

        if check(work, out=Sink()) != 1:
            print("self-test: forbidden includes were not refused")
            return 1
        text = "".join(listing)
        for expected in ('engine/trainer.cpp:1: includes "apps/progress.h"',
                         'kernels/cuda/ops.h:1: includes "data/augment.h"'):
            if expected not in text:
                print(f"self-test: '{expected}' was not reported; got:\n{text}")
                return 1
        print("self-test: allowed includes pass, the two forbidden ones are named")
        return 0
    finally:
        shutil.rmtree(work)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if not os.path.isdir(args.root):
        print(f"check-layers: {args.root} is not a directory", file=sys.stderr)
        return 2
    return check(os.path.abspath(args.root))


if __name__ == "__main__":
    sys.exit(main())
