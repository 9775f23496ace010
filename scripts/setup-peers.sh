#!/usr/bin/env bash
# Make the Python environment that benchmarks/peer/cpu_peers.py runs in: the CPU inference engines
# catdog is measured against (ONNX Runtime, OpenVINO, TensorFlow with tf-keras), plus onnx (to
# build the ONNX graph from a Keras .h5), h5py and numpy. PyPI wheels through pip, in a venv of
# its own so it never touches the system Python; Debian's PyTorch (/usr/bin/python3) is the fifth
# peer and needs nothing here. About 1 GB once installed; safe to run again.
#
#   scripts/setup-peers.sh            venv at .venv-peers in the repository (git ignores it)
#   scripts/setup-peers.sh PATH       venv at PATH
#   PYTHON=python3.12 scripts/setup-peers.sh   choose the interpreter the venv is made from
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${1:-.venv-peers}"
python="${PYTHON:-python3}"
packages=(onnxruntime openvino tensorflow-cpu tf-keras onnx h5py numpy pillow scipy)

if [ ! -x "$venv/bin/python" ]; then
  echo "setup-peers: making the venv $venv from $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
echo "setup-peers: installing ${packages[*]} (tensorflow-cpu alone is about 250 MB)"
"$venv/bin/python" -m pip install --quiet "${packages[@]}"
"$venv/bin/python" - <<'PY'
import importlib
for name in ["onnxruntime", "openvino", "tensorflow", "tf_keras", "onnx", "h5py", "numpy", "PIL", "scipy"]:
    module = importlib.import_module(name)
    print(f"setup-peers: {name} {getattr(module, '__version__', '?')}")
PY
echo "setup-peers: done. Try: $venv/bin/python benchmarks/peer/cpu_peers.py"
