#!/usr/bin/env python3
"""The CPU peers of catdog's frozen VGG16 base, timed and checked in one run, as one table.

The VGG16 conv base (13 3x3 'same' convolutions + ReLU, 5 2x2 max pools, no top, NHWC input as in
Keras) is built from ONE Keras-layout .h5 in every engine:
  - ONNX Runtime and OpenVINO run an ONNX graph made here from those weights with the `onnx`
    package's helper API (NCHW inside, a Transpose at each end so input and output are NHWC);
  - TensorFlow runs the same base as a tf-keras Sequential that loads the .h5;
  - PyTorch (Debian's, /usr/bin/python3) runs benchmarks/peer/torch_cpu_vgg16.py as a subprocess;
  - catdog is timed by build/benchmarks/cpu_conv_bench --benchmark_filter=Vgg16ConvBase/ (the
    product's Sequential forward; its weights are the seed-1 ones of shared/reference/README.md,
    made in-process: values do not change the time), and checked by `catdog extract --inputs`
    with the .h5 itself on the same input every peer gets.
Every engine uses --threads intra-op threads and one inter-op thread. An engine whose output
differs from catdog's by more than --tolerance (max |peer - catdog| / max |catdog|) fails the run.

  scripts/setup-peers.sh                                # once: the venv with the peers
  .venv-peers/bin/python benchmarks/peer/cpu_peers.py   # seeded weights, 224x224, batches 1 and 8
  .venv-peers/bin/python benchmarks/peer/cpu_peers.py --weights vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5
  ... --image-size 32 --seconds 0.5 --batches 1 2       # the smoke run of tests/cpu_peers_test.cpp
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINES = ["onnxruntime", "openvino", "tensorflow", "torch", "catdog"]

# VGG16's blocks: (filters, convolutions); a 2x2 max pool ends each.
VGG16_BLOCKS = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]


def vgg16_layers():
    """[(name, in_channels, filters)] of the 13 convolutions, and the names of the 18 layers."""
    convs, names, channels = [], [], 3
    for block, (filters, count) in enumerate(VGG16_BLOCKS, start=1):
        for k in range(1, count + 1):
            convs.append((f"block{block}_conv{k}", channels, filters))
            names.append(convs[-1][0])
            channels = filters
        names.append(f"block{block}_pool")
    return convs, names


def splitmix_uniform(seed, tensor, n):
    """shared/reference/README.md's generator: u[i] in [0, 1) from splitmix64."""
    gamma = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = np.uint64(((seed << 32) | tensor) & ((1 << 64) - 1)) + np.arange(1, n + 1, dtype=np.uint64) * gamma
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def write_seeded_vgg16_h5(path, seed):
    """VGG16 notop weights drawn from `seed`, in the layout of Keras' notop .h5 (root layer_names,
    a group per layer with weight_names, the kernel HWIO and the bias directly in it)."""
    import h5py
    convs, names = vgg16_layers()
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        index = {name: i for i, (name, _, _) in enumerate(convs)}
        for name in names:
            group = f.create_group(name)
            if name not in index:
                group.attrs["weight_names"] = np.zeros((0,), "f8")
                continue
            i, (_, cin, cout) = index[name], convs[index[name]]
            kernel = (2 * splitmix_uniform(seed, 2 * i, 9 * cin * cout) - 1) * np.sqrt(6.0 / (9 * cin))
            bias = (2 * splitmix_uniform(seed, 2 * i + 1, cout) - 1) * 0.05
            weight_names = [f"{name}_W_1:0", f"{name}_b_1:0"]
            group.attrs["weight_names"] = np.array([w.encode() for w in weight_names])
            group.create_dataset(weight_names[0], data=kernel.astype(np.float32).reshape(3, 3, cin, cout))
            group.create_dataset(weight_names[1], data=bias.astype(np.float32))


def read_vgg16_h5(path):
    """[(name, kernel HWIO, bias)] of the 13 convolutions, following layer_names/weight_names."""
    import h5py
    convs, _ = vgg16_layers()
    out = []
    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        for name, cin, cout in convs:
            group = root[name]
            weight_names = [w.decode() if isinstance(w, bytes) else str(w) for w in group.attrs["weight_names"]]
            kernel, bias = (np.asarray(group[w], dtype=np.float32) for w in weight_names)
            if kernel.shape != (3, 3, cin, cout) or bias.shape != (cout,):
                sys.exit(f"cpu_peers: {path}: layer {name} has {kernel.shape} / {bias.shape}, "
                         f"expected (3, 3, {cin}, {cout}) / ({cout},)")
            out.append((name, kernel, bias))
    return out


def onnx_vgg16_base(weights, image_size):
    """The conv base as an ONNX model: NHWC in, NHWC out, opset 17."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    nodes, initializers = [], []
    nodes.append(helper.make_node("Transpose", ["input"], ["x0"], perm=[0, 3, 1, 2]))
    current, block = "x0", 0
    for name, kernel, bias in weights:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), f"{name}_W"))
        initializers.append(numpy_helper.from_array(bias, f"{name}_b"))
        nodes.append(helper.make_node("Conv", [current, f"{name}_W", f"{name}_b"], [f"{name}_z"],
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]))
        nodes.append(helper.make_node("Relu", [f"{name}_z"], [name]))
        current = name
        this_block = int(name[5])
        if name.endswith(f"conv{VGG16_BLOCKS[this_block - 1][1]}"):
            pool = f"block{this_block}_pool"
            nodes.append(helper.make_node("MaxPool", [current], [pool], kernel_shape=[2, 2], strides=[2, 2]))
            current = pool
    nodes.append(helper.make_node("Transpose", [current], ["features"], perm=[0, 2, 3, 1]))
    side = image_size // 32
    graph = helper.make_graph(
        nodes, "vgg16_conv_base",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", image_size, image_size, 3])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", side, side, 512])],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def time_call(run, x, seconds):
    """(images/s, output) of run(x), after one warm-up call, over at least `seconds` and 3 calls."""
    out = run(x)
    calls, start = 0, time.perf_counter()
    while True:
        run(x)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 3:
            return calls * x.shape[0] / elapsed, out


def onnxruntime_runner(onnx_path, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    return f"ONNX Runtime {ort.__version__}", lambda x: session.run(None, {"input": x})[0]


def openvino_runner(onnx_path, threads):
    import openvino as ov
    core = ov.Core()
    # f32 explicitly: on a CPU with bf16 instructions OpenVINO would otherwise pick bf16 itself.
    compiled = core.compile_model(core.read_model(onnx_path), "CPU", {
        "INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    return (f"OpenVINO {ov.__version__.split('-')[0]}",
            lambda x: request.infer({0: x})[compiled.output(0)].copy())


def tensorflow_runner(h5_path, threads, image_size):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import tf_keras as keras
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    convs, names = vgg16_layers()
    filters = {name: f for name, _, f in convs}
    model = keras.Sequential([keras.Input((image_size, image_size, 3))] + [
        keras.layers.Conv2D(filters[n], 3, padding="same", activation="relu", name=n) if n in filters
        else keras.layers.MaxPooling2D(2, 2, name=n) for n in names])
    model.load_weights(h5_path)
    forward = tf.function(lambda x: model(x, training=False))
    return (f"TensorFlow {tf.__version__} + tf-keras {keras.__version__}",
            lambda x: forward(tf.constant(x)).numpy())


def torch_result(args, h5_path, check_input, work):
    """(label, {batch: images/s}, output on check_input) from Debian's PyTorch, in a subprocess."""
    check_output = os.path.join(work, "torch_features.npy")
    command = [args.torch_python, os.path.join(REPO, "benchmarks/peer/torch_cpu_vgg16.py"),
               "--threads", str(args.threads), "--seconds", str(args.seconds),
               "--image-size", str(args.image_size), "--weights", h5_path,
               "--check-input", check_input, "--check-output", check_output,
               "--batches", *map(str, args.batches)]
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rates = {int(b): float(r) for b, r in re.findall(r"batch (\d+): ([\d.]+) images/s", text)}
    return f"PyTorch {text.split()[1].rstrip(',')}", rates, np.load(check_output)


def catdog_rates(args):
    """(label, {batch: images/s}) of cpu_conv_bench's BM_Vgg16ConvBase at this size and batches.
    The label names the GEMM kernel OpenBLAS chose: on a CPU it does not recognise it falls back
    to an SSE3 one ("Prescott"), several times slower; OPENBLAS_CORETYPE=SkylakeX overrides."""
    env = dict(os.environ, CATDOG_BENCH_THREADS=str(args.threads), OPENBLAS_VERBOSE="2",
               CATDOG_BENCH_BASE_SIZE=str(args.image_size),
               CATDOG_BENCH_BASE_BATCHES=" ".join(map(str, args.batches)))
    command = [os.path.join(args.build, "benchmarks/cpu_conv_bench"),
               "--benchmark_filter=^BM_Vgg16ConvBase/", f"--benchmark_min_time={args.seconds}",
               "--benchmark_format=json"]
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    core = re.search(r"Core: (\w+)", done.stdout + done.stderr)
    report = json.loads(done.stdout[done.stdout.index("{"):])
    label = f"catdog (cpu_conv_bench Vgg16ConvBase/, OpenBLAS {core.group(1) if core else '?'})"
    return label, {int(b["name"].split("/")[1]): b["images"] for b in report["benchmarks"]}


def catdog_features(args, h5_path, check_input, work):
    output = os.path.join(work, "catdog_features.npy")
    env = dict(os.environ, CATDOG_THREADS=str(args.threads))
    subprocess.run([os.path.join(args.build, "catdog"), "extract", "--model", "vgg16", "--device", "cpu",
                    "--weights", h5_path, "--inputs", check_input, "--output", output],
                   check=True, capture_output=True, text=True, env=env)
    return np.load(output)


def max_relative_difference(ours, reference):
    if ours.shape != reference.shape:
        return float("inf")
    return float(np.max(np.abs(ours - reference)) / max(np.max(np.abs(reference)), 1e-30))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="VGG16 notop Keras .h5 (default: seeded weights written here)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the written weights and the input")
    parser.add_argument("--image-size", type=int, default=224, help="a multiple of 32")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per engine and batch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", nargs="+", default=ENGINES, choices=ENGINES)
    parser.add_argument("--build", default=os.path.join(REPO, "build"), help="catdog's build folder")
    parser.add_argument("--torch-python", default="/usr/bin/python3", help="a Python with torch")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="largest max |peer - catdog| / max |catdog| accepted")
    args = parser.parse_args()
    if args.image_size % 32:
        parser.error("--image-size must be a multiple of 32 (five 2x2 pools)")

    work = tempfile.mkdtemp(prefix="cpu_peers-")
    h5_path = args.weights or os.path.join(work, f"vgg16_notop_seed{args.seed}.h5")
    if not args.weights:
        write_seeded_vgg16_h5(h5_path, args.seed)
    weights = read_vgg16_h5(h5_path)
    onnx_path = os.path.join(work, "vgg16_conv_base.onnx")
    import onnx
    onnx.save(onnx_vgg16_base(weights, args.image_size), onnx_path)

    # One input for every engine: the largest batch, values in the range of caffe-preprocessed
    # pixels (ImageNet means subtracted); smaller batches are its first rows.
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(-120.0, 135.0, (max(args.batches), args.image_size, args.image_size, 3)).astype(np.float32)
    check_input = os.path.join(work, "input.npy")
    np.save(check_input, x)
    reference = catdog_features(args, h5_path, check_input, work)

    rows = []  # (engine, {batch: rate}, output or None)
    for engine in args.engines:
        if engine == "catdog":
            rows.append((*catdog_rates(args), reference))
            continue
        if engine == "torch":
            rows.append(torch_result(args, h5_path, check_input, work))
            continue
        label, run = {"onnxruntime": lambda: onnxruntime_runner(onnx_path, args.threads),
                      "openvino": lambda: openvino_runner(onnx_path, args.threads),
                      "tensorflow": lambda: tensorflow_runner(h5_path, args.threads, args.image_size)}[engine]()
        rates, output = {}, None
        for batch in args.batches:
            rates[batch], out = time_call(run, x[:batch], args.seconds)
            if batch == max(args.batches):
                output = out
        rows.append((label, rates, output))

    mine = next((r[1] for r in rows if r[0].startswith("catdog")), None)
    print(f"VGG16 conv base, {args.image_size}x{args.image_size}, {args.threads} threads, "
          f"weights {args.weights or f'seeded ({args.seed})'}; images/s")
    print()
    header = " | ".join(f"batch {b}" for b in args.batches)
    ratio_header = " | ".join(f"catdog / it, batch {b}" for b in args.batches) if mine else ""
    print(f"| engine | {header} |" + (f" {ratio_header} |" if mine else "") + " max rel diff vs catdog |")
    print("|---|" + "---:|" * (len(args.batches) * (2 if mine else 1) + 1))
    failed = []
    for label, rates, output in rows:
        diff = max_relative_difference(output, reference)
        if diff > args.tolerance:
            failed.append(f"{label}: {diff:.3g}")
        cells = [f"{rates[b]:.2f}" for b in args.batches]
        if mine:
            cells += [f"{mine[b] / rates[b]:.2f}x" for b in args.batches]
        print(f"| {label} | " + " | ".join(cells) + f" | {diff:.2g} |")
    if failed:
        print(f"cpu_peers: outputs disagree with catdog beyond {args.tolerance:g}: " + "; ".join(failed),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
