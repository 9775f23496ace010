#!/usr/bin/python3
"""PyTorch peer for benchmarks/cpu_conv_bench.cpp: the VGG16 conv base forward on the CPU.

Builds VGG16 without its top from torch.nn layers (torchvision may be absent): 13 3x3 convolutions
with padding 1 + ReLU, 2x2 max pools, 224x224 RGB input, and times inference (eval, no_grad) at
batch 1 and 8 with 2 threads, reporting images/s. The weights are random (values do not change
the timings) unless --weights gives a Keras VGG16 notop .h5; --check-input X.npy (NHWC) writes the
output for X to --check-output (NHWC), which benchmarks/peer/cpu_peers.py compares with catdog's.
Run with Debian's python (it has torch):

    /usr/bin/python3 benchmarks/peer/torch_cpu_vgg16.py [--threads 2] [--batches 1 8] [--seconds 10]
    /usr/bin/python3 benchmarks/peer/torch_cpu_vgg16.py --channels-last   (NHWC, as catdog)
"""
import argparse
import time

import numpy as np

import torch
from torch import nn

from cpu_peers import read_vgg16_h5, time_call  # beside this file


def vgg16_conv_base():
    layers, channels = [], 3
    for filters, convs in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(convs):
            layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(inplace=True)]
            channels = filters
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers).eval()


def load_keras_h5(model, path):
    """The 13 kernels (HWIO -> OIHW) and biases of a Keras VGG16 notop .h5, in layer order."""
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        for conv, (_, kernel, bias) in zip(convs, read_vgg16_h5(path)):
            conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
            conv.bias.copy_(torch.from_numpy(bias))


def images_per_second(model, batch, seconds, channels_last, size):
    x = torch.rand(batch, 3, size, size)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    with torch.no_grad():
        rate, _ = time_call(model, x, seconds)  # after a warm-up: allocations, algorithm choice
    return rate, batch / rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--weights", help="Keras VGG16 notop .h5 (default: random weights)")
    parser.add_argument("--check-input", help="NHWC float32 .npy to run once")
    parser.add_argument("--check-output", help="where to write its NHWC output")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = vgg16_conv_base()
    if args.weights:
        load_keras_h5(model, args.weights)
    if args.check_input:
        with torch.no_grad():
            x = torch.from_numpy(np.load(args.check_input)).permute(0, 3, 1, 2).contiguous()
            np.save(args.check_output, model(x).permute(0, 2, 3, 1).contiguous().numpy())
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    layout = "NHWC (channels_last)" if args.channels_last else "NCHW"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {layout}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    for batch in args.batches:
        rate, per_call = images_per_second(model, batch, args.seconds, args.channels_last, args.image_size)
        print(f"vgg16 conv base, batch {batch}: {rate:.2f} images/s ({per_call * 1000:.0f} ms per batch)")


if __name__ == "__main__":
    main()
