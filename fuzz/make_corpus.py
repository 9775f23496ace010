#!/usr/bin/python3
"""Write the fuzzers' seed corpora into fuzz/corpus/<target>/ (small files, made here, seeded).

    /usr/bin/python3 fuzz/make_corpus.py [SHARED_DIR]      (default ../shared; needs numpy, PIL, h5py)

fuzz_decode: one shared cat photo, cropped and shrunk, re-encoded as baseline JPEG (4:2:0, 4:2:2,
4:4:4), progressive JPEG, greyscale and CMYK JPEG, RGBA and palette PNG, lossy WebP.
fuzz_keras_h5: the three layouts of docs/FORMATS.md with weights for the fuzzer's fixed model
(8x8x3 -> conv2d_1 (4) -> batch_normalization_1 -> max_pooling2d_1 -> flatten_1 -> dense_1 (2)),
and a full model whose dense_1 kernel is a gzip dataset declaring 2048x2048 values.
fuzz_model_config: Tiny Darknet's shared config, the fixed model, a functional chain, a Keras 3
style config, an input shape whose product wraps in 64 bits. fuzz_npy: numpy.save of float32/uint8 arrays (v1 and v2 headers, 0-d, empty,
Fortran order). fuzz_dataset_names: lists of names for the scanner (see fuzz_dataset_names.cpp).
"""
import io
import json
import os
import sys

import h5py
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared")
rng = np.random.default_rng(8)


def out_dir(target):
    path = os.path.join(HERE, "corpus", target)
    os.makedirs(path, exist_ok=True)
    return path


def write(target, name, data):
    with open(os.path.join(out_dir(target), name), "wb") as f:
        f.write(data)


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def decode_seeds():
    photo = Image.open(os.path.join(SHARED, "data/catsdogs/train/cats/cat.1.jpg")).convert("RGB")
    small = photo.resize((48, 40), Image.BILINEAR)
    write("fuzz_decode", "baseline_420.jpg", encoded(small, "JPEG", quality=75, subsampling=2))
    write("fuzz_decode", "baseline_422.jpg", encoded(small, "JPEG", quality=75, subsampling=1))
    write("fuzz_decode", "baseline_444.jpg", encoded(small, "JPEG", quality=90, subsampling=0))
    write("fuzz_decode", "progressive.jpg", encoded(small, "JPEG", quality=75, progressive=True))
    write("fuzz_decode", "grey.jpg", encoded(small.convert("L"), "JPEG", quality=75))
    write("fuzz_decode", "cmyk.jpg", encoded(small.convert("CMYK"), "JPEG", quality=75))
    write("fuzz_decode", "rgba.png", encoded(small.convert("RGBA"), "PNG"))
    write("fuzz_decode", "palette.png", encoded(small.convert("P"), "PNG"))
    write("fuzz_decode", "lossy.webp", encoded(small, "WEBP", quality=50))


# The fuzzer's fixed model: (layer, [(weight suffix, shape)]), in order.
LAYERS = [
    ("conv2d_1", [("kernel", (3, 3, 3, 4)), ("bias", (4,))]),
    ("batch_normalization_1", [("gamma", (4,)), ("beta", (4,)), ("moving_mean", (4,)),
                               ("moving_variance", (4,))]),
    ("max_pooling2d_1", []),
    ("flatten_1", []),
    ("dense_1", [("kernel", (64, 2)), ("bias", (2,))]),
]
MODEL_CONFIG = {"class_name": "Sequential", "config": {"name": "fuzz", "layers": [
    {"class_name": "InputLayer", "config": {"name": "input_1", "batch_input_shape": [None, 8, 8, 3]}},
    {"class_name": "Conv2D", "config": {"name": "conv2d_1", "filters": 4, "kernel_size": [3, 3],
                                        "padding": "same", "activation": "relu"}},
    {"class_name": "BatchNormalization", "config": {"name": "batch_normalization_1"}},
    {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d_1"}},
    {"class_name": "Flatten", "config": {"name": "flatten_1"}},
    {"class_name": "Dense", "config": {"name": "dense_1", "units": 2}}]}}


def values(shape):
    return rng.standard_normal(shape).astype(np.float32)


def write_layers(group, weight_name, string):
    """layer_names / weight_names attributes and datasets; weight_name(layer, suffix) -> name."""
    group.attrs["layer_names"] = [string(layer) for layer, _ in LAYERS]
    for layer, weights in LAYERS:
        g = group.create_group(layer)
        names = [weight_name(layer, suffix) for suffix, _ in weights]
        g.attrs["weight_names"] = [string(n) for n in names] if names else np.asarray([])
        for name, (_, shape) in zip(names, weights):
            # "a/b:0" nests as h5py does; no timestamps, so the files are the same on every run.
            g.create_dataset(name, data=values(shape), track_times=False)


def keras_h5_seeds():
    d = out_dir("fuzz_keras_h5")
    # Keras 1 applications file: fixed-length byte strings, flat "<layer>_W_1:0" names.
    with h5py.File(os.path.join(d, "legacy_weights.h5"), "w") as f:
        suffix = {"kernel": "W", "bias": "b", "gamma": "gamma", "beta": "beta",
                  "moving_mean": "running_mean", "moving_variance": "running_std"}
        write_layers(f, lambda layer, s: f"{layer}_{suffix[s]}_1:0", lambda s: s.encode())
    # Keras 2 save_weights: variable-length strings, nested "<layer>/<param>:0".
    with h5py.File(os.path.join(d, "save_weights.h5"), "w") as f:
        f.attrs["keras_version"] = "2.2.4"
        f.attrs["backend"] = "tensorflow"
        write_layers(f, lambda layer, s: f"{layer}/{s}:0", str)
    # Full model as catdog writes it, with optimizer weights and catdog_state.
    with h5py.File(os.path.join(d, "full_model.h5"), "w") as f:
        f.attrs["model_config"] = json.dumps(MODEL_CONFIG).encode()
        f.attrs["training_config"] = b'{"loss": "binary_crossentropy"}'
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["catdog_state"] = b'{"base": "", "preprocess": "scale", "image_size": 8}'
        write_layers(f.create_group("model_weights"), lambda layer, s: f"{layer}/{s}:0",
                     lambda s: s.encode())
        opt = f.create_group("optimizer_weights")
        opt.attrs["weight_names"] = [b"iteration:0", b"SGD/m/dense_1/bias:0"]
        opt.create_dataset("iteration:0", data=np.int64(3), track_times=False)
        opt.create_dataset("SGD/m/dense_1/bias:0", data=values((2,)), track_times=False)


def keras_h5_crafted_seeds():
    """Hostile files of tests/hostile_files_test.cpp, shrunk: a full model whose dense_1 kernel is a
    gzip dataset declaring far more values than the model's (64, 2) kernel (nearly all zeros, so
    the file stays small)."""
    d = out_dir("fuzz_keras_h5")
    with h5py.File(os.path.join(d, "compressed_kernel.h5"), "w") as f:
        f.attrs["model_config"] = json.dumps(MODEL_CONFIG).encode()
        f.attrs["catdog_state"] = b'{"base": "", "preprocess": "scale", "image_size": 16}'
        write_layers(f.create_group("model_weights"), lambda layer, s: f"{layer}/{s}:0",
                     lambda s: s.encode())
        g = f["model_weights/dense_1"]
        del g["dense_1/kernel:0"]
        k = g.create_dataset("dense_1/kernel:0", shape=(2048, 2048), dtype="float32",
                             chunks=(256, 2048), compression="gzip", compression_opts=9,
                             track_times=False)
        rows = np.zeros((256, 2048), np.float32)
        crafted_rng = np.random.default_rng(16)  # its own: the other seeds stay as they were
        for row in range(0, 2048, 256):
            rows[:, 7] = crafted_rng.random(256)
            k[row:row + 256] = rows


def model_config_seeds():
    with open(os.path.join(SHARED, "weights/tiny_darknet_imagenet.json"), "rb") as f:
        write("fuzz_model_config", "tiny_darknet.json", f.read())
    write("fuzz_model_config", "fixed_model.json", json.dumps(MODEL_CONFIG).encode())
    functional = {"class_name": "Functional", "config": {"name": "chain", "layers": [
        {"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
         "config": {"name": "in", "batch_input_shape": [None, 16, 16, 3]}},
        {"class_name": "Conv2D", "name": "c", "inbound_nodes": [[["in", 0, 0, {}]]],
         "config": {"name": "c", "filters": 2, "kernel_size": 3, "strides": 2, "padding": "valid",
                    "use_bias": False, "kernel_initializer": {"class_name": "GlorotUniform"}}},
        {"class_name": "LeakyReLU", "name": "l", "inbound_nodes": [[["c", 0, 0, {}]]],
         "config": {"name": "l", "alpha": 0.1}},
        {"class_name": "GlobalAveragePooling2D", "name": "g", "inbound_nodes": [[["l", 0, 0, {}]]],
         "config": {"name": "g"}},
        {"class_name": "Dropout", "name": "d", "inbound_nodes": [[["g", 0, 0, {}]]],
         "config": {"name": "d", "rate": 0.5}},
        {"class_name": "Dense", "name": "o", "inbound_nodes": [[["d", 0, 0, {}]]],
         "config": {"name": "o", "units": 1, "activation": "sigmoid", "trainable": False}}]}}
    write("fuzz_model_config", "functional.json", json.dumps(functional).encode())
    keras3 = {"class_name": "Sequential", "config": {"name": "k3", "layers": [
        {"class_name": "InputLayer", "config": {"name": "input", "batch_shape": [None, 12, 10, 1]}},
        {"class_name": "Conv2D", "config": {"name": "conv", "filters": 3, "kernel_size": [5, 3],
                                            "strides": [1, 2], "padding": "same", "groups": 1}},
        {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [3], "epsilon": 0.001,
                                                        "center": True, "scale": False}},
        {"class_name": "ReLU", "config": {"name": "relu", "negative_slope": 0.0, "threshold": 0.0}},
        {"class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": [3, 3],
                                                  "strides": None, "padding": "same"}},
        {"class_name": "Activation", "config": {"name": "act", "activation": "tanh"}},
        {"class_name": "Flatten", "config": {"name": "flat"}},
        {"class_name": "Dense", "config": {"name": "out", "units": 4, "activation": "softmax"}}]}}
    write("fuzz_model_config", "keras3.json", json.dumps(keras3).encode())
    # tests/hostile_files_test.cpp: (2^62 + 3) * 4 * 1 wraps to 12 in 64 bits.
    wraps = {"class_name": "Sequential", "config": {"name": "wraps", "layers": [
        {"class_name": "InputLayer",
         "config": {"name": "in", "batch_input_shape": [None, 4611686018427387907, 4, 1]}},
        {"class_name": "Flatten", "config": {"name": "flat"}},
        {"class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid"}}]}}
    write("fuzz_model_config", "input_shape_wraps.json", json.dumps(wraps).encode())


def npy_seed(name, array, version=None):
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    write("fuzz_npy", name, buffer.getvalue())


def npy_seeds():
    npy_seed("f32_2x3.npy", values((2, 3)))
    npy_seed("u8_4x4x3.npy", rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    npy_seed("f32_scalar.npy", np.float32(1.5))
    npy_seed("f32_empty.npy", np.zeros((0, 5), np.float32))
    npy_seed("f32_v2.npy", values((1, 2, 2, 1)), version=(2, 0))
    npy_seed("f32_fortran.npy", np.asfortranarray(values((2, 2))))
    npy_seed("f64.npy", np.arange(3, dtype=np.float64))


def dataset_names_seeds():
    lists = {
        "kaggle_flat.txt": "cat.0.jpg\ncat.1.jpg\ndog.0.jpg\ndog.1.JPG\nreadme.txt\n",
        "class_folders.txt": "cats/a.jpg\ncats/sub/b.png\ndogs/c.jpeg\n.hidden/d.jpg\ndogs/e.gif\n",
        "train_test.txt": "train/cats/a.jpg\ntest/dogs/b.jpg\n",
        "odd_case.txt": "CAT.5.Jpeg\nDog.7.webp\ncatalog.jpg\ndog..jpg\ncat.tiff\n",
        "symlinks.txt": "cats/a.jpg\ndogs/b.jpg\nmore@cats\ndogs/c.jpg@b.jpg\n",
        "one_class.txt": "cats/a.jpg\ncats/b.jpg\ndogs/notes.txt\n",
        "undecodable_extensions.txt": "cats/a.jpg\ncats/b.bmp\ndogs/c.ppm\ndogs/d.TIF\ndogs/e.png\n",
        "same_name_twice.txt": "cats/x.jpg\ncats/sub/x.jpg\ndogs/x.jpg\n",
    }
    for name, text in lists.items():
        write("fuzz_dataset_names", name, text.encode())


if __name__ == "__main__":
    decode_seeds()
    keras_h5_seeds()
    model_config_seeds()
    npy_seeds()
    dataset_names_seeds()
    keras_h5_crafted_seeds()  # last: it draws from rng, and the seeds above stay as they were
