#!/usr/bin/env python3
# Two (or more) builds of benchmarks/decode_bench side by side on a shared, noisy machine: the
# binaries take turns, ROUNDS times, 3 repetitions each, and the best rate of each is printed,
# from wall time and from the main thread's CPU time (the better figure for the 1-thread decode
# benchmarks under load; meaningless for BM_Pipeline, whose work is on the worker thread).
#
#   benchmarks/peer/decode_ab.py OLD/decode_bench,NEW/decode_bench 'BM_(Decode|DecodeResize)/1' [ROUNDS]
import json, subprocess, sys, os, collections
bins = sys.argv[1].split(","); flt = sys.argv[2]; rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
best = collections.defaultdict(lambda: [0.0, 0.0])
env = dict(os.environ)  # decode_bench finds the photos as it does alone (CATDOG_SHARED or ../shared)
for r in range(rounds):
    for b in bins:
        out = subprocess.run([b, "--benchmark_filter=" + flt, "--benchmark_min_time=0",
                              "--benchmark_repetitions=3", "--benchmark_format=json"],
                             capture_output=True, text=True, env=env).stdout
        for x in json.loads(out)["benchmarks"]:
            if x.get("run_type") != "iteration": continue
            n = x["images_per_s"] * x["real_time"] / 1e3  # images per iteration
            key = (x["run_name"], os.path.basename(b))
            best[key][0] = max(best[key][0], x["images_per_s"])
            best[key][1] = max(best[key][1], n / (x["cpu_time"] / 1e3))
for (name, b), (real, cpu) in sorted(best.items()):
    print("%-32s %-22s best real %7.0f/s   best main-thread-cpu %7.0f/s" % (name, b, real, cpu))
