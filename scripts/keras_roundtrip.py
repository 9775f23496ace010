#!/usr/bin/env python3
"""Check that real Keras loads a catdog model.h5 and predicts what catdog predicted.

    keras_roundtrip.py MODEL.h5 INPUTS.npy EXPECTED.npy [--tolerance 1e-5] [--compile]

MODEL.h5      a model saved by catdog (Keras legacy full-model HDF5, see docs/FORMATS.md)
INPUTS.npy    float32 (N, H, W, C): the images exactly as the model takes them (already
              preprocessed: catdog's `caffe` or `scale` preprocessing, NHWC)
EXPECTED.npy  float32 (N, ...) : the outputs catdog computed for those inputs (probabilities)

Loads the file with keras.models.load_model (the Keras 2 API: the tf-keras package, else
tensorflow.keras), runs predict on CPU, prints the largest absolute difference and exits non-zero
when it is above the tolerance. --compile also rebuilds the optimizer from training_config.

Setup (big; once):  python3 -m venv /work/venv-keras
                    /work/venv-keras/bin/pip install tf-keras tensorflow-cpu
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # keep TensorFlow's start-up noise down
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")    # CPU: the comparison is about float32 math
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")    # tensorflow.keras = Keras 2 when tf-keras exists

import numpy as np


def keras_module():
    try:
        import tf_keras as keras  # Keras 2 for TensorFlow >= 2.16
    except ImportError:
        from tensorflow import keras
    return keras


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("inputs")
    parser.add_argument("expected")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--compile", action="store_true",
                        help="also compile the model from its training_config")
    args = parser.parse_args()

    keras = keras_module()
    model = keras.models.load_model(args.model, compile=args.compile)
    x = np.load(args.inputs).astype(np.float32)
    expected = np.load(args.expected).astype(np.float32)
    got = model.predict(x, batch_size=16, verbose=0).astype(np.float32)
    if got.size != expected.size:
        print(f"shape mismatch: keras gives {got.shape}, catdog gave {expected.shape}")
        return 2
    diff = float(np.max(np.abs(got.reshape(-1) - expected.reshape(-1)))) if got.size else 0.0
    print(f"keras {keras.__version__} loaded {args.model}: {len(model.layers)} layers, "
          f"{model.count_params()} parameters, input {model.input_shape}")
    print(f"{x.shape[0]} inputs; max |keras - catdog| = {diff:.3e} (tolerance {args.tolerance:g})")
    return 0 if diff <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
