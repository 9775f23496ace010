#!/usr/bin/env python3
"""The PyTorch peer of catdog's GPU benchmarks (issue 7), run on the same GPU in the same script.

Two modes:

  tutorial  The Keras tutorial's loop written the usual PyTorch way: PIL decode and resize
            (nearest, as Keras' load_img), a DataLoader with as many workers as cores, VGG16's
            convolution base frozen, Flatten -> Linear 128 -> ReLU -> Linear 1, BCE from logits,
            SGD lr 0.001 momentum 0.9, batch 64, validation on test/ after each epoch (as the
            tutorial's fit(validation_data=...)). Times --epochs epochs; with fewer than 10 it
            also prints the 10-epoch time extrapolated from the mean epoch, and says so.
  forward   Forward-only throughput of the frozen VGG16 base at batch 64, with the fastest
            settings PyTorch offers: cudnn.benchmark, channels_last, TF32 on/off, autocast
            fp16/bf16, a half/bfloat16 copy of the model, and torch.compile (tried; a failure is
            reported, not fatal).

Every figure is one machine-readable line:  peer,<mode>,<config>,<metric>,<value>
e.g.  peer,forward,bf16_autocast_channels_last,images_per_s,4321.0

Weights are random (torchvision.models.vgg16(weights=None): nothing can be downloaded there, and
the values do not change the timings). Without torchvision (Debian's python3-torch has none) the
same VGG16 layers are built by hand.

GPU (the lent H200):  python3 benchmarks/peer/torch_gpu_peer.py all --data DATA --epochs 1
CPU smoke test here:  /usr/bin/python3 benchmarks/peer/torch_gpu_peer.py all --device cpu \
                        --data DATA --image-size 32 --batch 4 --max-batches 2 --iters 1
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

# The tutorial's centering (ImageDataGenerator.mean = ImageNet RGB means), on RGB 0..255.
RGB_MEAN = np.array([123.68, 116.779, 103.939], dtype=np.float32)
VGG16_CHANNELS = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M',
                  512, 512, 512, 'M']


def emit(mode, config, metric, value):
    print(f"peer,{mode},{config},{metric},{value:.6g}" if isinstance(value, float)
          else f"peer,{mode},{config},{metric},{value}", flush=True)


def vgg16_features():
    """VGG16's convolution base (no top), random weights."""
    try:
        import torchvision
        return torchvision.models.vgg16(weights=None).features
    except ImportError:
        layers, c = [], 3
        for v in VGG16_CHANNELS:
            if v == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
                c = v
        return nn.Sequential(*layers)


def frozen_base(device):
    base = vgg16_features().to(device).eval()
    for p in base.parameters():
        p.requires_grad_(False)
    return base


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


# ---- tutorial mode --------------------------------------------------------------------------

class ImageFolderPIL(torch.utils.data.Dataset):
    """DIR/<class>/**/*.jpg, classes sorted by name -> labels 0, 1 (as Keras)."""

    def __init__(self, root, size):
        self.size = size
        classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        if len(classes) != 2:
            raise SystemExit(f"{root}: expected 2 class folders, found {classes}")
        # Files anywhere under each class folder (as catdog's dataset scan), sorted.
        self.items = [(path, float(label)) for label, c in enumerate(classes)
                      for path in sorted(os.path.join(d, f)
                                         for d, _, files in os.walk(os.path.join(root, c))
                                         for f in files)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        with Image.open(path) as img:
            img = img.convert('RGB').resize((self.size, self.size), Image.NEAREST)
            x = np.asarray(img, dtype=np.float32) - RGB_MEAN      # (H, W, 3)
        return torch.from_numpy(x.transpose(2, 0, 1).copy()), torch.tensor([label])


def tutorial(args, device):
    workers = args.workers if args.workers >= 0 else (os.cpu_count() or 1)
    loaders = {}
    for split, shuffle in (('train', True), ('test', False)):
        data = ImageFolderPIL(os.path.join(args.data, split), args.image_size)
        loaders[split] = torch.utils.data.DataLoader(
            data, batch_size=args.batch, shuffle=shuffle, num_workers=workers,
            pin_memory=device.type == 'cuda', persistent_workers=workers > 0,
            generator=torch.Generator().manual_seed(1))
    torch.manual_seed(1)
    base = frozen_base(device)
    side = args.image_size // 32
    head = nn.Sequential(nn.Flatten(), nn.Linear(512 * side * side, 128), nn.ReLU(),
                         nn.Linear(128, 1)).to(device)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.001, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()
    emit('tutorial', 'fp32', 'train_images', len(loaders['train'].dataset))
    emit('tutorial', 'fp32', 'test_images', len(loaders['test'].dataset))
    emit('tutorial', 'fp32', 'workers', workers)

    def batches(loader):
        for i, (x, y) in enumerate(loader):
            if args.max_batches and i >= args.max_batches:
                break
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    epoch_times = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        head.train()
        seen, loss_sum = 0, 0.0
        for x, y in batches(loaders['train']):
            with torch.no_grad():
                features = base(x)
            loss = loss_fn(head(features), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(y)   # .item() syncs, as Keras' progress bar does
            seen += len(y)
        sync(device)
        train_s = time.perf_counter() - start
        head.eval()
        correct, total = 0, 0
        with torch.no_grad():
            for x, y in batches(loaders['test']):
                correct += ((head(base(x)) >= 0).float() == y).sum().item()
                total += len(y)
        sync(device)
        seconds = time.perf_counter() - start
        epoch_times.append(seconds)
        emit('tutorial', 'fp32', f'epoch{epoch}_s', seconds)
        emit('tutorial', 'fp32', f'epoch{epoch}_train_images_per_s', seen / train_s)
        emit('tutorial', 'fp32', f'epoch{epoch}_loss', loss_sum / max(seen, 1))
        emit('tutorial', 'fp32', f'epoch{epoch}_val_accuracy', correct / max(total, 1))
    mean = sum(epoch_times) / len(epoch_times)
    emit('tutorial', 'fp32', 'mean_epoch_s', mean)
    if args.epochs >= 10:
        emit('tutorial', 'fp32', 'ten_epochs_s', sum(epoch_times[:10]))
    else:
        print(f"# tutorial: ran {args.epochs} epoch(s); ten_epochs_s_extrapolated = 10 x the mean "
              f"epoch ({mean:.2f} s), not measured", flush=True)
        emit('tutorial', 'fp32', 'ten_epochs_s_extrapolated', 10 * mean)


# ---- forward mode ---------------------------------------------------------------------------

def time_forward(model, x, iters, device, autocast_dtype=None):
    """Mean images/s of model(x) over `iters` timed runs, after warm-up runs."""
    def step():
        if autocast_dtype is not None:
            with torch.autocast(device.type, dtype=autocast_dtype):
                return model(x)
        return model(x)
    with torch.inference_mode():
        for _ in range(3):
            step()
        sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            step()
        sync(device)
    return x.shape[0] * iters / (time.perf_counter() - start)


def forward(args, device):
    torch.backends.cudnn.benchmark = True
    x32 = torch.rand(args.batch, 3, args.image_size, args.image_size, device=device) * 255 - 120
    cuda = device.type == 'cuda'
    bf16_ok = cuda and torch.cuda.is_bf16_supported()  # bf16 on a CPU says nothing here

    def set_tf32(on):
        torch.backends.cuda.matmul.allow_tf32 = on
        torch.backends.cudnn.allow_tf32 = on

    # (name, tf32, channels_last, autocast dtype, model dtype)
    configs = [('fp32', False, False, None, None),
               ('fp32_channels_last', False, True, None, None),
               ('tf32', True, False, None, None),
               ('tf32_channels_last', True, True, None, None)]
    if cuda:
        configs += [('fp16_autocast_channels_last', True, True, torch.float16, None),
                    ('fp16_model_channels_last', True, True, None, torch.float16)]
    if bf16_ok:
        configs += [('bf16_autocast_channels_last', True, True, torch.bfloat16, None),
                    ('bf16_model_channels_last', True, True, None, torch.bfloat16)]
    best = {}
    for name, tf32, channels_last, autocast, dtype in configs:
        set_tf32(tf32)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        model = frozen_base(device).to(memory_format=fmt)
        x = x32.contiguous(memory_format=fmt)
        if dtype is not None:
            model, x = model.to(dtype), x.to(dtype)
        try:
            rate = time_forward(model, x, args.iters, device, autocast)
        except Exception as e:  # a mode this GPU or build lacks: say so, go on
            print(f"# forward {name}: failed: {type(e).__name__}: {e}", flush=True)
            continue
        emit('forward', name, 'images_per_s', rate)
        family = name.split('_')[0]
        if family in ('fp16', 'bf16'):
            family = 'lowp'
        if rate > best.get(family, (0, ''))[0]:
            best[family] = (rate, name)
        del model

    if not args.no_compile:
        set_tf32(True)
        for name, autocast, dtype in (('bf16_model_channels_last_compiled', None, torch.bfloat16),
                                      ('fp32_channels_last_compiled', None, None)):
            if dtype == torch.bfloat16 and not bf16_ok:
                continue
            set_tf32(dtype is not None)
            model = frozen_base(device).to(memory_format=torch.channels_last)
            x = x32.contiguous(memory_format=torch.channels_last)
            if dtype is not None:
                model, x = model.to(dtype), x.to(dtype)
            try:
                start = time.perf_counter()
                compiled = torch.compile(model)
                with torch.inference_mode():
                    compiled(x)
                sync(device)
                emit('forward', name, 'compile_s', time.perf_counter() - start)
                rate = time_forward(compiled, x, args.iters, device, autocast)
            except Exception as e:
                print(f"# forward {name}: torch.compile failed: {type(e).__name__}: "
                      f"{str(e).splitlines()[0] if str(e) else ''}", flush=True)
                continue
            emit('forward', name, 'images_per_s', rate)
            family = 'lowp' if dtype is not None else 'fp32'
            if rate > best.get(family, (0, ''))[0]:
                best[family] = (rate, name)
    set_tf32(False)
    for family, (rate, name) in sorted(best.items()):
        emit('forward', f'best_{family}', 'images_per_s', rate)
        emit('forward', f'best_{family}', 'config', name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('mode', choices=['tutorial', 'forward', 'all'])
    parser.add_argument('--data', help='dataset with train/<class>/ and test/<class>/ (tutorial)')
    parser.add_argument('--epochs', type=int, default=1)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--image-size', type=int, default=224)
    parser.add_argument('--workers', type=int, default=-1, help='DataLoader workers (-1: cores)')
    parser.add_argument('--device', default='auto', choices=['auto', 'cuda', 'cpu'])
    parser.add_argument('--iters', type=int, default=20, help='timed forward batches per config')
    parser.add_argument('--max-batches', type=int, default=0, help='cap per pass (smoke tests)')
    parser.add_argument('--no-compile', action='store_true', help='skip torch.compile')
    args = parser.parse_args()
    if args.device == 'auto':
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(0) if device.type == 'cuda' else 'cpu'
    print(f"# torch {torch.__version__}, device {name}, {os.cpu_count()} cores", flush=True)
    emit('info', 'device', 'name', name)
    emit('info', 'torch', 'version', torch.__version__)
    if args.mode in ('forward', 'all'):
        forward(args, device)
    if args.mode in ('tutorial', 'all'):
        if not args.data:
            parser.error('tutorial mode needs --data DIR')
        tutorial(args, device)
    return 0


if __name__ == '__main__':
    sys.exit(main())
