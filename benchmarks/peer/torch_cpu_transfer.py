#!/usr/bin/python3
"""PyTorch's equivalent of catdog's CPU transfer-learning run (issue 6), timed on this machine.

  catdog train --data ../shared/data/catsdogs --model tiny-darknet \
               --weights ../shared/weights/tiny_darknet_imagenet.h5 --epochs 10 --device cpu

The same recipe, written the usual PyTorch way:
  1. Tiny Darknet, cut after leaky_re_lu_15 (14x14x128 at 224x224), built from the shared Keras
     model_config + weights with shared/reference/torch_oracle.py's read_weights and KerasNet
     layer list, as torch modules (Conv2d with its 'same' padding, BatchNorm2d in eval mode,
     LeakyReLU, MaxPool2d); checked against KerasNet's own forward on the first batch.
  2. Feature extraction of train/ and test/: PIL decode, convert to RGB, resize to 224x224
     (nearest, as Keras' load_img), RGB / 255; a DataLoader with one worker per core decodes
     while the network runs; batch 64.
  3. Ten epochs of the head on the cached features: Flatten -> Linear 128 (He uniform) -> ReLU
     -> Linear 1 (Glorot uniform), BCE from logits, SGD lr 0.001 momentum 0.9, batch 64,
     shuffled with a seeded generator; then test accuracy.
torch.set_num_threads(--threads, default 2: the machine's cores, as catdog uses).

Prints the wall time of the extraction and of the ten epochs, and the test accuracy, as lines
peer,cpu_transfer,<what>,<metric>,<value>  (and a readable summary).

  /usr/bin/python3 benchmarks/peer/torch_cpu_transfer.py            (Debian's python has torch)
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get('CATDOG_SHARED', os.path.join(HERE, '..', '..', '..', 'shared'))


def emit(what, metric, value):
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    print(f"peer,cpu_transfer,{what},{metric},{text}", flush=True)


def torch_layers(keras_net):
    """KerasNet's (class, config, weights) list -> an nn.Sequential computing the same thing."""
    mods = []
    for cls, c, w in keras_net.layers:
        if cls == 'InputLayer':
            continue
        if cls == 'Conv2D':
            kh, kw = c['kernel_size']
            assert c['strides'][0] == 1 and kh % 2 == 1 and kw % 2 == 1, c
            pad = (kh // 2, kw // 2) if c['padding'] == 'same' else (0, 0)
            bias = c.get('use_bias', True) and len(w) > 1
            conv = nn.Conv2d(w[0].shape[2], w[0].shape[3], (kh, kw), padding=pad, bias=bias)
            conv.weight.data.copy_(w[0].permute(3, 2, 0, 1))  # HWIO -> OIHW
            if bias:
                conv.bias.data.copy_(w[1])
            mods.append(conv)
            assert c.get('activation', 'linear') in ('linear', None), c
        elif cls == 'BatchNormalization':
            gamma, beta, mean, var = w
            bn = nn.BatchNorm2d(gamma.shape[0], eps=c['epsilon'])
            bn.weight.data.copy_(gamma)
            bn.bias.data.copy_(beta)
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            mods.append(bn)
        elif cls == 'LeakyReLU':
            mods.append(nn.LeakyReLU(c['alpha']))
        elif cls == 'MaxPooling2D':
            mods.append(nn.MaxPool2d(c['pool_size'], c['strides'],
                                     ceil_mode=c['padding'] == 'same'))
        else:
            raise ValueError(f"unsupported layer {cls}")
    return nn.Sequential(*mods).eval()


class Photos(torch.utils.data.Dataset):
    """DIR/<class>/*: classes sorted by name -> 0, 1 (cats, dogs). Yields (NCHW float, label)."""

    def __init__(self, root, size):
        classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        self.items = [(os.path.join(root, c, f), label) for label, c in enumerate(classes)
                      for f in sorted(os.listdir(os.path.join(root, c)))]
        self.size = size

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        with Image.open(path) as img:
            x = np.asarray(img.convert('RGB').resize((self.size, self.size), Image.NEAREST),
                           dtype=np.float32) / 255.0
        return torch.from_numpy(x.transpose(2, 0, 1).copy()), label


def extract(net, oracle, root, args):
    data = Photos(root, 224)
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=False,
                                         num_workers=args.workers)
    feats, labels = [], []
    with torch.inference_mode():
        for x, y in loader:
            f = net(x)
            if oracle is not None:  # once: our module list computes what KerasNet computes
                ref = torch.as_tensor(oracle(x[:2].permute(0, 2, 3, 1).numpy())).permute(0, 3, 1, 2)
                err = (f[:2] - ref).abs().max().item() / max(ref.abs().max().item(), 1e-12)
                assert err < 1e-4, f"torch modules differ from KerasNet: {err}"
                oracle = None
            feats.append(f)
            labels.append(y)
    return torch.cat(feats), torch.cat(labels).float().unsqueeze(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', default=os.path.join(SHARED, 'data', 'catsdogs'))
    parser.add_argument('--weights', help='WEIGHTS.h5 and WEIGHTS.json without the extension',
                        default=os.path.join(SHARED, 'weights', 'tiny_darknet_imagenet'))
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--epochs', type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(SHARED, 'reference'))
    from torch_oracle import KerasNet, read_weights

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    config = json.load(open(args.weights + '.json'))
    oracle = KerasNet(config, read_weights(args.weights + '.h5'), stop_after='leaky_re_lu_15')
    net = torch_layers(oracle)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.workers} DataLoader workers, data {args.data}", flush=True)

    start = time.perf_counter()
    x_train, y_train = extract(net, oracle, os.path.join(args.data, 'train'), args)
    x_test, y_test = extract(net, None, os.path.join(args.data, 'test'), args)
    extract_s = time.perf_counter() - start
    emit('extract', 'images', len(x_train) + len(x_test))
    emit('extract', 'seconds', extract_s)
    emit('extract', 'images_per_s', (len(x_train) + len(x_test)) / extract_s)

    # The head, initialised as Keras does: he_uniform, then glorot_uniform; zero biases. Keras
    # flattens NHWC; the order does not change what a freshly initialised head can learn.
    features = x_train[0].numel()
    head = nn.Sequential(nn.Flatten(), nn.Linear(features, 128), nn.ReLU(), nn.Linear(128, 1))
    nn.init.uniform_(head[1].weight, -math.sqrt(6 / features), math.sqrt(6 / features))
    nn.init.uniform_(head[3].weight, -math.sqrt(6 / 129), math.sqrt(6 / 129))
    nn.init.zeros_(head[1].bias)
    nn.init.zeros_(head[3].bias)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.001, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(1)

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(x_train), generator=generator)
        loss_sum = 0.0
        for b in range(0, len(order), 64):
            idx = order[b:b + 64]
            loss = loss_fn(head(x_train[idx]), y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
        emit('train', f'epoch{epoch}_loss', loss_sum / len(order))
    train_s = time.perf_counter() - start
    with torch.inference_mode():
        accuracy = ((head(x_test) >= 0).float() == y_test).float().mean().item()
    emit('train', 'epochs', args.epochs)
    emit('train', 'seconds', train_s)
    emit('test', 'accuracy', accuracy)
    emit('total', 'seconds', extract_s + train_s)
    print(f"extraction {extract_s:.1f} s ({len(x_train)} train + {len(x_test)} test images), "
          f"{args.epochs} epochs of the head {train_s:.1f} s, total {extract_s + train_s:.1f} s, "
          f"test accuracy {accuracy:.4f}", flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
