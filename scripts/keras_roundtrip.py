#!/usr/bin/env python3
"""Check that real Keras loads a catdog model.h5 and predicts what catdog predicted.

    keras_roundtrip.py MODEL.h5 INPUTS.npy EXPECTED.npy [--tolerance 1e-5] [--compile]
    keras_roundtrip.py MODEL.h5 --images IMAGE... [--catdog build/catdog] [--tolerance 1e-5]

MODEL.h5      a model saved by catdog (Keras legacy full-model HDF5, see docs/FORMATS.md)
INPUTS.npy    float32 (N, H, W, C): the images exactly as the model takes them (already
              preprocessed: catdog's `caffe` or `scale` preprocessing, NHWC)
EXPECTED.npy  float32 (N, ...) : the outputs catdog computed for those inputs (probabilities)
--images      photos instead: `catdog predict` gives the expected probabilities, and the inputs
              for Keras are made here with PIL (decode, nearest resize to the model's size,
              the preprocessing recorded in the file's catdog_state), as Keras' own loader would

Loads the file with keras.models.load_model (the Keras 2 API: the tf-keras package, else
tensorflow.keras), runs predict on CPU, prints the largest absolute difference and exits non-zero
when it is above the tolerance. --compile also rebuilds the optimizer from training_config.

Setup (big; once):  python3 -m venv /work/venv-keras
                    /work/venv-keras/bin/pip install tf-keras tensorflow-cpu h5py pillow
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # keep TensorFlow's start-up noise down
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")    # CPU: the comparison is about float32 math
try:                                                 # tensorflow.keras = Keras 2 when tf-keras exists
    import tf_keras  # noqa: F401
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
except ImportError:                                  # else Keras 3, which reads the legacy .h5 too
    pass

import numpy as np


def keras_module():
    try:
        import tf_keras as keras  # Keras 2 for TensorFlow >= 2.16
    except ImportError:
        from tensorflow import keras
    return keras


CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
TUTORIAL_MEAN_RGB = np.array([123.68, 116.779, 103.939], dtype=np.float32)


def images_as_inputs(model_path, images):
    """The model's inputs for photos, made the way Keras' image loader makes them."""
    import h5py
    from PIL import Image
    with h5py.File(model_path, "r") as f:
        # A root dataset since catdog_state outgrew HDF5's attribute size; an attribute before.
        raw = f["catdog_state"][()] if "catdog_state" in f else f.attrs["catdog_state"]
        state = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    size, mode = state["image_size"], state["preprocess"]
    batch = []
    for path in images:
        image = Image.open(path).convert("RGB")
        if image.size != (size, size):
            image = image.resize((size, size), Image.NEAREST)
        x = np.asarray(image, dtype=np.float32)
        if mode == "caffe":
            x = x[..., ::-1] - CAFFE_MEAN_BGR
        elif mode == "tutorial":
            x = x - TUTORIAL_MEAN_RGB
        elif mode == "scale":
            x = x / 255.0
        batch.append(x)
    return np.stack(batch).astype(np.float32)


def catdog_probabilities(catdog, model_path, images):
    """`catdog predict` prints: path, probability of the second class, label."""
    out = subprocess.run([catdog, "predict", "--device", "cpu", "--model", model_path, *images],
                         check=True, capture_output=True, text=True).stdout
    return np.array([float(line.split("\t")[1]) for line in out.splitlines()], dtype=np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("inputs", nargs="?")
    parser.add_argument("expected", nargs="?")
    parser.add_argument("--images", nargs="+", help="photos to predict with both")
    parser.add_argument("--catdog", default="build/catdog", help="the catdog binary (--images)")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--compile", action="store_true",
                        help="also compile the model from its training_config")
    args = parser.parse_args()
    if bool(args.images) == bool(args.inputs and args.expected):
        parser.error("give INPUTS.npy EXPECTED.npy, or --images")

    keras = keras_module()
    model = keras.models.load_model(args.model, compile=args.compile)
    if args.images:
        x = images_as_inputs(args.model, args.images)
        expected = catdog_probabilities(args.catdog, args.model, args.images)
    else:
        x = np.load(args.inputs).astype(np.float32)
        expected = np.load(args.expected).astype(np.float32)
    got = model.predict(x, batch_size=16, verbose=0).astype(np.float32)
    if got.size != expected.size:
        print(f"shape mismatch: keras gives {got.shape}, catdog gave {expected.shape}")
        return 2
    diff = float(np.max(np.abs(got.reshape(-1) - expected.reshape(-1)))) if got.size else 0.0
    print(f"keras {keras.__version__} loaded {args.model}: {len(model.layers)} layers, "
          f"{model.count_params()} parameters, input {model.input_shape}")
    if args.compile:
        print(f"compiled from training_config: loss {model.loss}, optimizer "
              f"{type(model.optimizer).__name__}")
    print(f"{x.shape[0]} inputs; max |keras - catdog| = {diff:.3e} (tolerance {args.tolerance:g})")
    return 0 if diff <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
