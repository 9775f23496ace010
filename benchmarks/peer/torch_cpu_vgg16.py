#!/usr/bin/python3
"""PyTorch peer for benchmarks/cpu_conv_bench.cpp: the VGG16 conv base forward on the CPU.

Builds VGG16 without its top from torch.nn layers (torchvision may be absent): 13 3x3 convolutions
with padding 1 + ReLU, 2x2 max pools, 224x224 RGB input, and times inference (eval, no_grad) at
batch 1 and 8 with 2 threads, reporting images/s. The weights are random: values do not change
the timings. Run with Debian's python (it has torch):

    /usr/bin/python3 benchmarks/peer/torch_cpu_vgg16.py [--threads 2] [--batches 1 8] [--seconds 10]
    /usr/bin/python3 benchmarks/peer/torch_cpu_vgg16.py --channels-last   (NHWC, as catdog)
"""
import argparse
import time

import torch
from torch import nn


def vgg16_conv_base():
    layers, channels = [], 3
    for filters, convs in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(convs):
            layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(inplace=True)]
            channels = filters
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers).eval()


def images_per_second(model, batch, seconds, channels_last):
    x = torch.rand(batch, 3, 224, 224)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    with torch.no_grad():
        model(x)  # warm-up: allocations, algorithm choice
        runs, start = 0, time.perf_counter()
        while True:
            model(x)
            runs += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and runs >= 3:
                return runs * batch / elapsed, elapsed / runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = vgg16_conv_base()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    layout = "NHWC (channels_last)" if args.channels_last else "NCHW"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {layout}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    for batch in args.batches:
        rate, per_call = images_per_second(model, batch, args.seconds, args.channels_last)
        print(f"vgg16 conv base, batch {batch}: {rate:.2f} images/s ({per_call * 1000:.0f} ms per batch)")


if __name__ == "__main__":
    main()
