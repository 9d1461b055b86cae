#!/usr/bin/env python3
"""texcnn against PyTorch and ONNX Runtime on one TExCNN gene, in one go.

1. makes the random full-size DNABERT-2-117M folder (once; `texcnn bench --make-random-117m`),
2. cuts the gene into its 18 segments and checks that all runtimes embed them alike
   (`texcnn embed` vs PyTorch vs ORT fp32: max abs diff; int8: cosine vs fp32),
3. measures this CPU's peak (sgemm, ORT's int8 MatMul),
4. times every runtime in ROUNDS interleaved rounds (ours, PyTorch, ORT, ours, ...) because
   the machine is shared, then prints medians, min/max, tokens/s, GFLOP/s, the fraction of the
   measured peak, and the ratios ours/PyTorch and ours/ORT.

Run from the repository root with the venv of requirements.txt:
  /work/bench-venv/bin/python native-train/bench/compare.py --texcnn target/release/texcnn
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference.py"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run(cmd, capture=True):
    log("$ " + " ".join(str(c) for c in cmd))
    done = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE if capture else None, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(str(c) for c in cmd)}")
    return done.stdout


def load():
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texcnn", action="append", metavar="[LABEL=]PATH[@PRECISIONS]",
                        help="a release binary of texcnn, optionally labelled and with its own "
                             "precisions (e.g. base=/tmp/texcnn-base@f32); repeatable "
                             "(default: ours=target/release/texcnn)")
    parser.add_argument("--precision", default="f32,int8,int8-a8", help="our precisions in the timed rounds")
    parser.add_argument("--warmup", type=int, default=0,
                        help="untimed runs per configuration in each round (one gene is ~1.8 TFLOP, "
                             "far longer than any first-call cost)")
    parser.add_argument("--work", default="/tmp/texcnn-bench", help="scratch folder")
    parser.add_argument("--model", help="HF folder (default: WORK/dnabert2-117m-random, made if absent)")
    parser.add_argument("--h5", default="tests/fixtures/pig_test_10seq.h5")
    parser.add_argument("--record", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", default="1,8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-check", action="store_true")
    args = parser.parse_args()
    binaries = []
    for spec in args.texcnn or ["ours=target/release/texcnn"]:
        spec, _, precision = spec.partition("@")
        label, _, path = spec.rpartition("=")
        binaries.append((label or "ours", path, precision or args.precision))
    texcnn = binaries[0][1]

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model = Path(args.model) if args.model else work / "dnabert2-117m-random"
    gene = work / "gene"
    py = sys.executable
    gene_args = ["--model", model, "--h5", args.h5, "--record", args.record]
    notes = [f"load average at start: {load()}"]

    if not (model / "model.safetensors").exists():
        run([texcnn, "bench", "--make-random-117m", model], capture=False)

    # The gene, our int8 embeddings (computed in int8), and the FLOP count (one warm-up-sized
    # run, batch 8).
    report = run([texcnn, "bench"] + gene_args + ["--precision", "int8", "--batch", "8", "--warmup", "0", "--repeats", "1", "--write-gene", gene,
                          "--write-embeddings", work / "ours"])
    gflop = float(re.search(r"matmul FLOPs per gene \(unpadded tokens\): ([0-9.]+) GFLOP", report).group(1))
    notes.append(report.split("| precision")[0].rstrip())

    if not args.skip_check:
        run([texcnn, "embed", "--model", model, "--fasta", gene / "segments.fa", "--out", work / "ours_f32.tsv"],
            capture=False)
        notes.append(run([py, REFERENCE, "--threads", args.threads, "check", model, gene, work / "ours_f32.tsv",
                          "--ours-int8", work / "ours" / "embeddings_int8_int8compute.tsv", "--work", work / "onnx"]).rstrip())
    peak_text = run([py, REFERENCE, "--threads", args.threads, "peak", "--work", work / "onnx"]).rstrip()
    notes.append(peak_text)
    # The best rate any f32 (int8) matmul reached on this machine today is "the peak".
    burn = [float(x) for x in re.findall(r"burn Flex matmul .*: ([0-9.]+) GFLOP/s", report)]
    peak = max([float(x) for x in re.findall(r"\t([0-9.]+) GFLOP/s", peak_text)] + burn)
    peak_int8 = max(float(x) for x in re.findall(r"\t([0-9.]+) GOP/s", peak_text))

    samples = {}  # (runtime, batch) -> seconds

    def add(runtime, batch, seconds):
        samples.setdefault((runtime, int(batch)), []).append(float(seconds))

    tokens = None
    for r in range(args.rounds):
        log(f"round {r + 1}/{args.rounds}, load average {load()}")
        notes.append(f"round {r + 1}: load average {load()}")
        for label, path, precision in binaries:
            # A binary from before --warmup existed does its own single warm-up run.
            warmup = ["--warmup", args.warmup] if "--warmup" in run([path, "bench", "--help"]) else []
            out = run([path, "bench"] + gene_args + ["--precision", precision, "--batch", args.batch,
                                                     "--repeats", "1", "--format", "tsv"] + warmup)
            lines = out.splitlines()
            header = next(i for i, line in enumerate(lines) if line.startswith("precision\t"))
            columns = lines[header].split("\t")
            for line in lines[header + 1:]:
                row = dict(zip(columns, line.split("\t")))
                precision = row["precision"]
                kind = ("int8-a8" if "8-bit activations" in precision
                        else "int8" if precision.startswith("int8") and "int8 compute" in precision
                        else "int8-dequantized" if precision.startswith("int8") else "f32")
                add(f"{label} {kind}", row["batch"], row["median s/gene"])
                tokens = int(row["tokens"])
            notes.extend(f"{label}: {line}" for line in lines[:header] if line.startswith("burn Flex matmul"))
        for runtimes in ("torch", "ort-fp32,ort-int8"):
            out = run([py, REFERENCE, "--threads", args.threads, "time", model, gene, "--runtimes", runtimes,
                       "--batch", args.batch, "--warmup", args.warmup, "--repeats", "1", "--work", work / "onnx"])
            for line in out.splitlines():
                runtime, batch, _, _, seconds = line.split("\t")
                add(runtime, batch, seconds)
    notes.append(f"load average at the end: {load()}")

    names = {"torch": "PyTorch fp32", "ort-fp32": "ORT fp32", "ort-int8": "ORT int8 (dynamic)"}
    print("\n".join(notes))
    print()
    print(f"| runtime | batch | runs | median s/gene | min s | max s | tokens/s | GFLOP/s | % of peak |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    medians = {}
    for (runtime, batch), values in sorted(samples.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        median = statistics.median(values)
        medians[(runtime, batch)] = median
        rate = gflop / median
        # int8 compute is measured against the int8 MatMul peak, the rest against sgemm.
        ceiling = peak_int8 if runtime == "ort-int8" or runtime.endswith(("int8", "int8-a8")) else peak
        print(f"| {names.get(runtime, runtime)} | {batch} | {len(values)} | {median:.2f} | {min(values):.2f} | "
              f"{max(values):.2f} | {tokens / median:.0f} | {rate:.1f} | {100 * rate / ceiling:.0f}% |")
    print()
    print("| ours | peer | batch | ours / peer (median time; < 1: ours is faster) |")
    print("| --- | --- | --- | --- |")
    for batch in sorted({b for _, b in samples}):
        for ours in sorted({r for r, _ in samples if r not in names}):
            for peer in ("torch", "ort-fp32", "ort-int8"):
                if (ours, batch) in medians and (peer, batch) in medians:
                    ratio = medians[(ours, batch)] / medians[(peer, batch)]
                    print(f"| {ours} | {names[peer]} | {batch} | {ratio:.2f} |")
    print(f"\n{gflop:.1f} GFLOP per gene (matmuls, unpadded); peak (best matmul measured above): "
          f"f32 {peak:.1f} GFLOP/s, int8 {peak_int8:.1f} GOP/s")


if __name__ == "__main__":
    main()
