#!/usr/bin/env bash
# Render the Graphviz sources docs/diagrams/*.dot to docs/img/*.svg (the pictures the docs show).
# Run it after editing a .dot file and commit both. Needs `dot` (Debian package graphviz, which
# scripts/setup.sh installs).
#
#   scripts/make-diagrams.sh            render every diagram
#   scripts/make-diagrams.sh --png DIR  also write PNGs into DIR (for a quick look; not committed)
set -euo pipefail
cd "$(dirname "$0")/.."

png_dir=""
if [ "${1:-}" = "--png" ]; then
  [ $# -ge 2 ] || { echo "make-diagrams: --png needs a folder" >&2; exit 2; }
  png_dir=$2
  mkdir -p "$png_dir"
fi
command -v dot >/dev/null || { echo "make-diagrams: 'dot' not found (apt-get install graphviz)" >&2; exit 1; }

mkdir -p docs/img
shopt -s nullglob
sources=(docs/diagrams/*.dot)
[ ${#sources[@]} -gt 0 ] || { echo "make-diagrams: no docs/diagrams/*.dot" >&2; exit 1; }
for src in "${sources[@]}"; do
  name=$(basename "$src" .dot)
  # Write beside the target, then rename: a failed render never leaves a half-written picture.
  if ! dot -Tsvg "$src" -o "docs/img/$name.svg.tmp"; then
    rm -f "docs/img/$name.svg.tmp"
    echo "make-diagrams: $src did not render (the dot error is above)" >&2
    exit 1
  fi
  mv -f "docs/img/$name.svg.tmp" "docs/img/$name.svg"
  echo "make-diagrams: docs/img/$name.svg"
  if [ -n "$png_dir" ]; then
    dot -Tpng -Gdpi=110 "$src" -o "$png_dir/$name.png"
    echo "make-diagrams: $png_dir/$name.png"
  fi
done
