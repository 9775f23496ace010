#!/usr/bin/env python3
"""The issue-7 table from one scripts/gpu-bench.sh run: catdog's Google Benchmark JSON files and
the PyTorch peer's `peer,...` lines, side by side, with the ratios and the targets.

  python3 benchmarks/peer/summarize_gpu.py --out DIR     (reads DIR/*.json, DIR/peer.csv;
                                                          writes DIR/summary.md and prints it)
Missing inputs leave their rows as 'n/a' rather than failing: a partial run still summarises.
"""
import argparse
import json
import os
import sys

PRECISIONS = ['fp32', 'tf32', 'fp16', 'bf16']
# Which PyTorch family each of our precisions is compared with: strict fp32 with PyTorch's best
# with TF32 off, tf32 with its best TF32 setting, fp16/bf16 with its best reduced precision.
PEER_FAMILY = {'fp32': 'best_fp32', 'tf32': 'best_tf32', 'fp16': 'best_lowp', 'bf16': 'best_lowp'}


def load_benchmarks(path):
    """{name without the /arg and /manual_time suffixes: benchmark dict}; {} when absent."""
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data.get('benchmarks', []):
        name = b.get('run_name', b['name'])
        parts = [p for p in name.split('/')
                 if p not in ('manual_time', 'real_time') and ':' not in p and not p.isdigit()]
        out['/'.join(parts)] = b
    return out


def load_peer(path):
    """{(mode, config, metric): value string}."""
    out = {}
    if os.path.exists(path):
        for line in open(path):
            fields = line.strip().split(',')
            if len(fields) == 5 and fields[0] == 'peer':
                out[(fields[1], fields[2], fields[3])] = fields[4]
    return out


def num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def fmt(value, digits=1):
    return 'n/a' if value is None else f"{value:,.{digits}f}"


def ratio(a, b):
    return 'n/a' if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def counter(bench, key):
    """A counter (or field such as real_time) of a benchmark that ran; None when absent/failed."""
    if not bench or bench.get('error_occurred'):
        return None
    return num(bench.get(key))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    vgg = load_benchmarks(os.path.join(args.out, 'gpu_vgg16.json'))
    on = load_benchmarks(os.path.join(args.out, 'epoch_cache_on.json'))
    off = load_benchmarks(os.path.join(args.out, 'epoch_cache_off.json'))
    peer = load_peer(os.path.join(args.out, 'peer.csv'))
    lines = []
    w = lines.append

    device = peer.get(('info', 'device', 'name'), 'unknown device')
    w(f"Device: {device}; PyTorch {peer.get(('info', 'torch', 'version'), 'n/a')}.")
    w('')
    w('### Frozen VGG16 forward, 224x224, batch 64 (images/s)')
    w('')
    w('| precision | catdog | PyTorch best (its config) | catdog / PyTorch | target |')
    w('|---|---:|---:|---:|---|')
    for p in PRECISIONS:
        ours = counter(vgg.get(f'VGG16Base/{p}'), 'images_per_s')
        fam = PEER_FAMILY[p]
        theirs = num(peer.get(('forward', fam, 'images_per_s')))
        config = peer.get(('forward', fam, 'config'), '')
        target = '>= 1.0x' if p in ('fp32', 'bf16', 'fp16') else ''
        w(f"| {p} | {fmt(ours)} | {fmt(theirs)} ({config}) | {ratio(ours, theirs)} | {target} |")
    w('')
    w('Every PyTorch forward configuration (images/s):')
    w('')
    for (mode, config, metric), value in sorted(peer.items()):
        if mode == 'forward' and not config.startswith('best_'):
            w(f"- {config} {metric}: {value}")
    w('')

    w('### GEMM peak (cuBLAS, 8192^3, random data)')
    w('')
    w('| precision | TFLOP/s |')
    w('|---|---:|')
    for p in PRECISIONS:
        w(f"| {p} | {fmt(counter(vgg.get(f'GemmPeak/{p}'), 'TFLOP_per_s'))} |")
    w('')

    w('### Per layer, batch 64: TFLOP/s (% of the measured bf16 GEMM peak)')
    w('')
    w('| layer | ' + ' | '.join(PRECISIONS) + ' |')
    w('|---|' + '---:|' * len(PRECISIONS))
    layer_names = [k.split('/')[2] for k in vgg if k.startswith('VGG16Layer/fp32/')]
    for layer in layer_names:
        cells = []
        for p in PRECISIONS:
            b = vgg.get(f'VGG16Layer/{p}/{layer}')
            tflops = counter(b, 'TFLOP_per_s')
            pct = counter(b, 'pct_of_bf16_gemm_peak')
            ms = counter(b, 'real_time')
            if tflops is not None:
                cells.append(f"{tflops:.1f} ({pct:.0f}%)" if pct is not None else f"{tflops:.1f}")
            else:
                cells.append(f"{ms:.2f} ms" if ms is not None else 'n/a')
        w(f"| {layer} | " + ' | '.join(cells) + ' |')
    w('')
    base = {p: counter(vgg.get(f'VGG16Base/{p}'), 'TFLOP_per_s') for p in PRECISIONS}
    pct = {p: counter(vgg.get(f'VGG16Base/{p}'), 'pct_of_bf16_gemm_peak') for p in PRECISIONS}
    w('Whole base: ' + ', '.join(f"{p} {fmt(base[p])} TFLOP/s ({fmt(pct[p], 0)}% of bf16 GEMM peak)"
                                 for p in PRECISIONS))
    w('')

    w('### Head step and memory')
    w('')
    head = vgg.get('HeadStep/gpu')
    w(f"- Head training step, batch 64: {fmt(counter(head, 'real_time'), 3)} ms, "
      f"{fmt(counter(head, 'images_per_s'), 0)} images/s")
    mem = vgg.get('PeakMemory/train_step_fp32')
    w(f"- Peak device memory, one fp32 training step at batch 64 (base + head): "
      f"{fmt(counter(mem, 'peak_MiB'), 0)} MiB (target: at most 2048 MiB)")
    w('')

    w('### Ten epochs on the synthetic JPEGs (decode included), seconds')
    w('')
    torch10 = num(peer.get(('tutorial', 'fp32', 'ten_epochs_s')))
    extrapolated = torch10 is None
    if extrapolated:
        torch10 = num(peer.get(('tutorial', 'fp32', 'ten_epochs_s_extrapolated')))
    w(f"PyTorch tutorial loop: {fmt(torch10)} s for 10 epochs"
      f"{' (extrapolated: 10 x its measured epoch)' if extrapolated else ''}; one epoch "
      f"{fmt(num(peer.get(('tutorial', 'fp32', 'epoch1_s'))))} s, train "
      f"{fmt(num(peer.get(('tutorial', 'fp32', 'epoch1_train_images_per_s'))), 0)} images/s.")
    w('')
    w('| catdog run | epochs | total s | extract s | epoch 1 s | later epochs s | 10-epoch s '
      '| PyTorch / catdog | target |')
    w('|---|---:|---:|---:|---:|---:|---:|---:|---|')
    for label, table in (('cache on', on), ('cache off', off)):
        for p in PRECISIONS:
            b = table.get(f'Epoch/vgg16/{p}/cache_{label.split()[1]}')
            if not b:
                continue
            total = counter(b, 'total_s')
            e1, later = counter(b, 'epoch1_s'), counter(b, 'later_epoch_s')
            if b.get('error_occurred'):
                w(f"| {p}, {label} | failed: {b.get('error_message', '')[:60]} |||||||")
                continue
            epochs = b.get('label', '').split(' ')[0]
            n = int(epochs) if epochs.isdigit() else None
            if n == 10:
                ten = total
            elif n and total is not None and e1 is not None:  # extrapolate: setup + 10 epochs
                ten = total + (10 - n) * (later if later else e1)
            else:
                ten = None
            note = '' if n == 10 else ' (extrapolated)'
            w(f"| {p}, {label} | {epochs or 'n/a'} | {fmt(total)} | {fmt(counter(b, 'extract_s'))} "
              f"| {fmt(e1)} | {fmt(later)} | {fmt(ten)}{note} | {ratio(torch10, ten)} "
              f"| {'>= 5x' if label == 'cache on' else '(for comparison)'} |")
    text = '\n'.join(lines) + '\n'
    with open(os.path.join(args.out, 'summary.md'), 'w') as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
