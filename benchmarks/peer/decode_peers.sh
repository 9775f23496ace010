#!/usr/bin/env bash
# Decode speed side by side, in one run: our decoder (benchmarks/decode_bench), libjpeg-turbo's
# own tjbench (the practical limit of a TurboJPEG decode), and PIL decode + resize (the Keras
# path: Image.open, convert("RGB"), resize((224, 224), NEAREST), then Keras' img_to_array into a
# float32 batch). Prints images/s and ratios.
#
#   benchmarks/peer/decode_peers.sh [BUILD_DIR] [--smoke]
#
# BUILD_DIR defaults to build/. --smoke: 32 photos and short runs (seconds), for CI.
# Per-core figures: tjbench and PIL run in one process on one core; ours on 1 and 2 threads.
# tjbench decodes each file from memory, repeatedly, for -benchtime seconds; it runs on copies
# in a temporary folder (it writes files beside its input unless -nowrite, and the shared data
# must stay untouched). The rate over a set is files / sum(1 / per-file rate).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
build="$here/build"
smoke=0
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    *) build="$arg" ;;
  esac
done
shared="${CATDOG_SHARED:-$here/../shared}"
photos="$shared/data/catsdogs"
python="${CATDOG_PYTHON:-/usr/bin/python3}"
bench="$build/benchmarks/decode_bench"
[ -x "$bench" ] || { echo "build $bench first (ninja -C $build decode_bench)" >&2; exit 1; }
[ -d "$photos" ] || { echo "shared photos not found at $photos" >&2; exit 1; }
command -v tjbench >/dev/null || { echo "tjbench not found (Debian: libjpeg-turbo-progs)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The photos in the benchmark's order: train then test, each sorted as scan_dataset sorts.
(cd "$photos/train" && find . -type f -name '*.jpg' | LC_ALL=C sort | sed "s|^\.|$photos/train|") > "$work/list"
(cd "$photos/test" && find . -type f -name '*.jpg' | LC_ALL=C sort | sed "s|^\.|$photos/test|") >> "$work/list"
if [ "$smoke" = 1 ]; then
  head -n 32 "$work/list" > "$work/files"; filter='Smoke'; stride=4; benchtime=0.02
else
  cp "$work/list" "$work/files"; filter='BM_(Decode|DecodeResize|DecodeResizeDct|DecodeRepeated|Pipeline)/'
  stride=8; benchtime=0.05
fi
n=$(wc -l < "$work/files")

echo "== ours: $bench --benchmark_filter='$filter' ($n photos)"
"$bench" --benchmark_filter="$filter" --benchmark_format=json --benchmark_min_time=0 \
  > "$work/ours.json"

echo "== tjbench: every ${stride}th photo, -benchtime $benchtime"
mkdir -p "$work/tj"
: > "$work/tj_rates"
awk "NR % $stride == 1" "$work/files" | while read -r f; do
  cp "$f" "$work/tj/x.jpg"
  (cd "$work/tj" && tjbench x.jpg -benchtime "$benchtime" -warmup 0 -nowrite) \
    | awk '/Decompress.*Frame rate/ {print $5; exit}' >> "$work/tj_rates"
done

echo "== PIL ($("$python" -c 'import PIL; print(PIL.__version__)')): decode, and decode + resize to 224 NEAREST, one core"
"$python" - "$work/files" > "$work/pil.txt" <<'PY'
import sys, time
from PIL import Image
files = open(sys.argv[1]).read().split()
def decode(path):
    im = Image.open(path)
    if im.mode != "RGB":
        im = im.convert("RGB")
    im.load()
    return im
# What Keras' flow_from_directory does per image on top of that: img_to_array (float32) into
# its slot of a batch array. catdog's pipeline also ends with the image in a batch (uint8; the
# float conversion happens on the device), so this is the like-for-like whole path.
import numpy as np
batch = np.zeros((64, 224, 224, 3), dtype=np.float32)
def keras_path(i, p):
    batch[i % 64] = np.asarray(decode(p).resize((224, 224), Image.NEAREST), dtype=np.float32)
for name, work in (("decode", lambda i, p: decode(p)),
                   ("decode_resize", lambda i, p: decode(p).resize((224, 224), Image.NEAREST)),
                   ("keras_path", keras_path)):
    start = time.perf_counter()
    for i, p in enumerate(files):
        work(i, p)
    print(name, len(files) / (time.perf_counter() - start))
PY

"$python" - "$work/ours.json" "$work/tj_rates" "$work/pil.txt" "$smoke" <<'PY'
import json, sys
ours = {b["name"].replace("/real_time", ""): b["images_per_s"]
        for b in json.load(open(sys.argv[1]))["benchmarks"] if "images_per_s" in b}
rates = [float(x) for x in open(sys.argv[2]).read().split()]
tj = len(rates) / sum(1.0 / r for r in rates)
pil = dict((l.split()[0], float(l.split()[1])) for l in open(sys.argv[3]))
smoke = sys.argv[4] == "1"
def get(name):
    return ours.get(name.replace("BM_DecodeResize/", "BM_DecodeResizeSmoke/").replace(
        "BM_Pipeline/", "BM_PipelineSmoke/") if smoke else name)
rows = [("libjpeg-turbo tjbench decode, 1 core", tj), ("PIL decode, 1 core", pil["decode"]),
        ("PIL decode + resize 224, 1 core", pil["decode_resize"]),
        ("PIL + img_to_array into a batch, 1 core", pil["keras_path"])]
for name in ("BM_DecodeRepeated/1", "BM_Decode/1", "BM_Decode/2", "BM_DecodeResize/1",
             "BM_DecodeResize/2", "BM_DecodeResizeDct/1", "BM_DecodeResizeDct/2", "BM_Pipeline/1", "BM_Pipeline/2"):
    if get(name) is not None:
        rows.append(("catdog " + name, get(name)))
print("\n%-42s %10s" % ("", "images/s"))
for name, value in rows:
    print("%-42s %10.1f" % (name, value))
def ratio(label, a, b):
    if a is not None and b:
        print("%-58s %6.2fx" % (label, a / b))
print()
ratio("decode / tjbench, per core (target >= 0.90)", get("BM_Decode/1"), tj)
ratio("decode, tjbench's way (each file 8 times) / tjbench", get("BM_DecodeRepeated/1"), tj)
ratio("decode + resize / tjbench, per core (target >= 0.95)", get("BM_DecodeResize/1"), tj)
ratio("whole pipeline, 1 worker / tjbench, per core (target >= 0.95)", get("BM_Pipeline/1"), tj)
ratio("decode + resize / PIL decode + resize, per core (target >= 1.5)", get("BM_DecodeResize/1"), pil["decode_resize"])
ratio("whole pipeline, 1 worker / PIL decode + resize (target >= 1.5)", get("BM_Pipeline/1"), pil["decode_resize"])
ratio("whole pipeline, 1 worker / PIL + img_to_array into a batch", get("BM_Pipeline/1"), pil["keras_path"])
ratio("DCT-scaled decode + resize / PIL decode + resize", get("BM_DecodeResizeDct/1"), pil["decode_resize"])
ratio("scaling 2 threads / 1 (decode + resize; ideal 2)", get("BM_DecodeResize/2"), get("BM_DecodeResize/1"))
ratio("scaling 2 workers / 1 (pipeline; ideal 2)", get("BM_Pipeline/2"), get("BM_Pipeline/1"))
PY
