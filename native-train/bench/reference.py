#!/usr/bin/env python3
"""The DNABERT-2 encoder in PyTorch and ONNX Runtime: the peers `texcnn bench` races.

Written for this project from ../../../shared/DESIGN.md ("DNABERT-2-117M, as the original code
computes it"); no third-party model code. Subcommands:

  golden DIR              check this implementation against the original code's outputs in
                          tests/fixtures/dnabert2_golden_tiny (hidden states, mean-pooled)
  check  MODEL GENE OURS  embed the gene's segments (GENE/tokens.json from `texcnn bench
                          --write-gene`) with PyTorch, export to ONNX (fp32, and dynamic int8),
                          and compare: ours (TSV from `texcnn embed`) vs PyTorch (max abs diff),
                          ORT fp32 vs PyTorch (max abs diff), ORT int8 vs fp32 (cosine)
  time   MODEL GENE       time one gene per runtime and batch size; prints TSV rows
  export MODEL            write MODEL's ONNX files (fp32, and dynamic int8) into --work, for
                          ONNX Runtime Web (web/browser.mjs)
  peak                    this CPU's sgemm GFLOP/s (torch and numpy) and ORT's int8 MatMul GOP/s

Every runtime runs on `--threads` threads (default 2, the cores of the benchmark machine).
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

PAD_ID = 3
MASKED_KEY_BIAS = -1.0e9


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def alibi_slopes(heads):
    """The standard ALiBi slopes: a geometric sequence for a power of two, else the slopes for
    the power of two below followed by every other slope of the power of two above."""

    def power_of_two(n):
        start = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if heads & (heads - 1) == 0:
        return power_of_two(heads)
    closest = 2 ** int(math.floor(math.log2(heads)))
    return power_of_two(closest) + alibi_slopes(2 * closest)[0::2][: heads - closest]


class Layer(nn.Module):
    """One encoder layer: fused QKV, ALiBi attention, post-LN; gated-GELU MLP, post-LN."""

    def __init__(self, hidden, heads, intermediate, eps):
        super().__init__()
        self.heads = heads
        self.intermediate = intermediate
        self.wqkv = nn.Linear(hidden, 3 * hidden)
        self.dense = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.gated_layers = nn.Linear(hidden, 2 * intermediate, bias=False)
        self.wo = nn.Linear(intermediate, hidden)
        self.mlp_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, bias):
        # x [batch, tokens, hidden], bias [batch, heads, tokens, tokens]
        batch, tokens, hidden = x.shape
        head_size = hidden // self.heads
        qkv = self.wqkv(x).reshape(batch, tokens, 3, self.heads, head_size)
        q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(head_size) + bias
        attended = torch.matmul(torch.softmax(scores, dim=-1), v)
        attended = attended.transpose(1, 2).reshape(batch, tokens, hidden)
        x = self.attention_norm(self.dense(attended) + x)
        both = self.gated_layers(x)
        gated, non_gated = both[..., : self.intermediate], both[..., self.intermediate :]
        mixed = nn.functional.gelu(gated) * non_gated  # exact (erf) GELU
        return self.mlp_norm(self.wo(mixed) + x)


class Encoder(nn.Module):
    """DNABERT-2: word + token-type-0 embeddings and LayerNorm (no position embeddings), then
    the layers. `forward` returns the last hidden layer; `Pooled` wraps it with the mean."""

    def __init__(self, config):
        super().__init__()
        h = config["hidden_size"]
        eps = config.get("layer_norm_eps", 1e-12)
        self.heads = config["num_attention_heads"]
        self.word_embeddings = nn.Embedding(config["vocab_size"], h)
        self.token_type_embeddings = nn.Embedding(config.get("type_vocab_size", 2), h)
        self.embedding_norm = nn.LayerNorm(h, eps=eps)
        self.layers = nn.ModuleList(
            Layer(h, self.heads, config["intermediate_size"], eps)
            for _ in range(config["num_hidden_layers"])
        )
        slopes = torch.tensor(alibi_slopes(self.heads), dtype=torch.float64).float()
        self.register_buffer("slopes", slopes.reshape(1, self.heads, 1, 1), persistent=False)

    def load_official(self, state):
        """Copies `bert.*` weights of an official checkpoint (PyTorch layout) in; strict."""
        ours = {
            "word_embeddings.weight": "bert.embeddings.word_embeddings.weight",
            "token_type_embeddings.weight": "bert.embeddings.token_type_embeddings.weight",
            "embedding_norm.weight": "bert.embeddings.LayerNorm.weight",
            "embedding_norm.bias": "bert.embeddings.LayerNorm.bias",
        }
        parts = {
            "wqkv": "attention.self.Wqkv",
            "dense": "attention.output.dense",
            "attention_norm": "attention.output.LayerNorm",
            "gated_layers": "mlp.gated_layers",
            "wo": "mlp.wo",
            "mlp_norm": "mlp.layernorm",
        }
        for n in range(len(self.layers)):
            for mine, theirs in parts.items():
                # `mlp.gated_layers` has no bias.
                for kind in ("weight",) if mine == "gated_layers" else ("weight", "bias"):
                    ours[f"layers.{n}.{mine}.{kind}"] = f"bert.encoder.layer.{n}.{theirs}.{kind}"
        missing = [k for k in ours.values() if k not in state]
        used = set(ours.values())
        unexpected = [
            k for k in state if k not in used and not k.startswith("cls.predictions.")
        ]
        if missing or unexpected:
            raise SystemExit(f"checkpoint mismatch: missing {missing}, unexpected {unexpected}")
        self.load_state_dict({mine: state[theirs].float() for mine, theirs in ours.items()})

    def forward(self, input_ids, mask):
        # input_ids [batch, tokens] int64; mask [batch, tokens] float, 1 real, 0 padding
        batch, tokens = input_ids.shape
        x = self.word_embeddings(input_ids) + self.token_type_embeddings.weight[0]
        x = self.embedding_norm(x)
        positions = torch.arange(tokens, device=input_ids.device, dtype=torch.float32)
        distance = -(positions.reshape(-1, 1) - positions.reshape(1, -1)).abs()
        bias = self.slopes * distance.reshape(1, 1, tokens, tokens)
        bias = bias + ((1.0 - mask) * MASKED_KEY_BIAS).reshape(batch, 1, 1, tokens)
        for layer in self.layers:
            x = layer(x, bias)
        return x


class Pooled(nn.Module):
    """Mean of the last hidden layer over real tokens ([CLS] and [SEP] included)."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids, mask):
        hidden = self.encoder(input_ids, mask)
        weights = mask.unsqueeze(-1)
        return (hidden * weights).sum(1) / weights.sum(1)


def load_folder(model_dir):
    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    if (model_dir / "model.safetensors").exists():
        from safetensors.torch import load_file

        state = load_file(str(model_dir / "model.safetensors"))
    else:
        state = torch.load(model_dir / "pytorch_model.bin", map_location="cpu", weights_only=True)
    encoder = Encoder(config)
    encoder.load_official(state)
    return Pooled(encoder.eval()).eval(), config


def pad(segments):
    longest = max(len(s) for s in segments)
    ids = np.full((len(segments), longest), PAD_ID, dtype=np.int64)
    mask = np.zeros((len(segments), longest), dtype=np.float32)
    for row, tokens in enumerate(segments):
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1.0
    return ids, mask


def read_gene(gene_dir):
    return json.loads((Path(gene_dir) / "tokens.json").read_text())["token_ids"]


def read_tsv(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    return np.array([[float(v) for v in row[1:]] for row in rows], dtype=np.float32)


class Runtimes:
    """The three peers, each embedding a list of segments in chunks of `batch`."""

    def __init__(self, model_dir, work_dir, threads, which):
        self.threads = threads
        torch.set_num_threads(threads)
        self.model, self.config = load_folder(model_dir)
        self.sessions = {}
        if any(w.startswith("ort") for w in which):
            fp32, int8 = export_onnx(self.model, self.config, Path(work_dir))
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            for name, path in (("ort-fp32", fp32), ("ort-int8", int8)):
                if name in which:
                    self.sessions[name] = ort.InferenceSession(
                        str(path), options, providers=["CPUExecutionProvider"]
                    )

    def embed(self, runtime, segments, batch):
        out = []
        for start in range(0, len(segments), batch):
            ids, mask = pad(segments[start : start + batch])
            if runtime == "torch":
                with torch.inference_mode():
                    out.append(self.model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy())
            else:
                out.append(self.sessions[runtime].run(None, {"input_ids": ids, "mask": mask})[0])
        return np.concatenate(out)


def export_onnx(model, config, work_dir):
    """fp32 export with dynamic batch and token axes, and ORT's dynamic int8 quantization of
    it (weights int8 per tensor, activations quantized per call). Cached in `work_dir`."""
    work_dir.mkdir(parents=True, exist_ok=True)
    fp32 = work_dir / "encoder_fp32.onnx"
    int8 = work_dir / "encoder_int8.onnx"
    if not fp32.exists():
        log(f"exporting {fp32}")
        ids, mask = pad([[1, 5, 6, 7, 2], [1, 5, 2]])
        with torch.inference_mode():
            torch.onnx.export(
                model,
                (torch.from_numpy(ids), torch.from_numpy(mask)),
                str(fp32),
                input_names=["input_ids", "mask"],
                output_names=["pooled"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "mask": {0: "batch", 1: "tokens"},
                    "pooled": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
    if not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        log(f"quantizing {int8}")
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return fp32, int8


def cmd_golden(args):
    torch.set_num_threads(args.threads)
    folder = Path(args.dir)
    model, _ = load_folder(folder)
    segments = json.loads((folder / "token_ids.json").read_text())["token_ids"]
    worst = 0.0
    with torch.inference_mode():
        for n, tokens in enumerate(segments):
            ids, mask = pad([tokens])
            hidden = model.encoder(torch.from_numpy(ids), torch.from_numpy(mask))[0].numpy()
            expected = np.load(folder / f"hidden_seq{n}.npy")
            error = float(np.abs(hidden - expected).max())
            worst = max(worst, error)
            print(f"seq{n}: {len(tokens)} tokens, hidden max abs diff {error:.2e}")
        ids, mask = pad(segments)
        pooled = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    error = float(np.abs(pooled - np.load(folder / "mean_pooled.npy")).max())
    print(f"mean-pooled, padded batch of {len(segments)}: max abs diff {error:.2e}")
    worst = max(worst, error)
    if worst > 1e-4:
        raise SystemExit(f"FAIL: the PyTorch reference differs from the original by {worst:.2e}")
    print(f"OK: worst max abs diff {worst:.2e} (limit 1e-4)")


def cmd_check(args):
    segments = read_gene(args.gene)
    runtimes = Runtimes(args.model, args.work, args.threads, ["torch", "ort-fp32", "ort-int8"])
    reference = runtimes.embed("torch", segments, 8)
    alone = runtimes.embed("torch", segments[:2], 1)
    ours = read_tsv(args.ours)
    if ours.shape != reference.shape:
        raise SystemExit(f"ours has shape {ours.shape}, PyTorch {reference.shape}")
    cos = lambda a, b: (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    results = {
        "ours vs PyTorch, max abs diff": float(np.abs(ours - reference).max()),
        "PyTorch batch 1 vs batch 8, max abs diff": float(np.abs(alone - reference[:2]).max()),
    }
    fp32 = runtimes.embed("ort-fp32", segments, 8)
    results["ORT fp32 vs PyTorch, max abs diff"] = float(np.abs(fp32 - reference).max())
    int8 = runtimes.embed("ort-int8", segments, 8)
    results["ORT int8 vs PyTorch fp32, cosine min"] = float(cos(int8, reference).min())
    if args.ours_int8:
        ours8 = read_tsv(args.ours_int8)
        results["ours int8 vs PyTorch fp32, cosine min"] = float(cos(ours8, reference).min())
    for name, value in results.items():
        print(f"{name}\t{value:.3g}" if "cosine" not in name else f"{name}\t{value:.7f}")
    scale = float(np.abs(reference).max())
    print(f"largest |embedding value|\t{scale:.3g}")
    if results["ours vs PyTorch, max abs diff"] > 1e-3 * max(scale, 1.0):
        raise SystemExit("FAIL: ours and PyTorch disagree; the timing would not be a fair race")


def cmd_time(args):
    segments = read_gene(args.gene)
    which = args.runtimes.split(",")
    runtimes = Runtimes(args.model, args.work, args.threads, which)
    tokens = sum(len(s) for s in segments)
    for runtime in which:
        for batch in (int(b) for b in args.batch.split(",")):
            for _ in range(args.warmup):
                runtimes.embed(runtime, segments, batch)
            for run in range(args.repeats):
                start = time.perf_counter()
                runtimes.embed(runtime, segments, batch)
                took = time.perf_counter() - start
                log(f"{runtime} batch {batch} run {run + 1}: {took:.3f} s")
                print(f"{runtime}\t{batch}\t{len(segments)}\t{tokens}\t{took:.4f}", flush=True)


def cmd_export(args):
    """The ONNX files of `export_onnx` for MODEL, for ONNX Runtime Web (web/browser.mjs)."""
    model, config = load_folder(args.model)
    fp32, int8 = export_onnx(model, config, Path(args.work))
    print(f"{fp32}\n{int8}")


def cmd_peak(args):
    n = args.size
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    for threads in sorted({1, args.threads}):
        torch.set_num_threads(threads)
        best = math.inf
        for _ in range(args.repeats + 1):
            start = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - start)
        print(f"torch sgemm {n}x{n}x{n}, {threads} threads\t{2 * n**3 / best / 1e9:.1f} GFLOP/s")

    an, bn = a.numpy(), b.numpy()
    best = math.inf
    for _ in range(args.repeats + 1):
        start = time.perf_counter()
        an @ bn
        best = min(best, time.perf_counter() - start)
    print(f"numpy sgemm {n}x{n}x{n} (its BLAS's default: all CPUs)\t{2 * n**3 / best / 1e9:.1f} GFLOP/s")

    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    weight = numpy_helper.from_array(np.random.default_rng(0).standard_normal((n, n)).astype(np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    fp32, int8 = work / "matmul_fp32.onnx", work / "matmul_int8.onnx"
    onnx.save(model, str(fp32))
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    x = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    for threads in sorted({1, args.threads}):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        for name, path in (("fp32", fp32), ("int8 (dynamic)", int8)):
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            best = math.inf
            for _ in range(args.repeats + 1):
                start = time.perf_counter()
                session.run(None, {"x": x})
                best = min(best, time.perf_counter() - start)
            unit = "GOP/s" if "int8" in name else "GFLOP/s"
            rate = 2 * n**3 / best / 1e9
            print(f"ORT MatMul {name} {n}x{n}x{n}, {threads} threads\t{rate:.1f} {unit}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("golden")
    p.add_argument("dir")
    p.set_defaults(run=cmd_golden)
    p = sub.add_parser("check")
    p.add_argument("model")
    p.add_argument("gene")
    p.add_argument("ours", help="TSV of `texcnn embed` on GENE/segments.fa (f32)")
    p.add_argument("--ours-int8", help="TSV of our int8 embeddings of the same segments")
    p.add_argument("--work", default="/tmp/texcnn-bench/onnx")
    p.set_defaults(run=cmd_check)
    p = sub.add_parser("time")
    p.add_argument("model")
    p.add_argument("gene")
    p.add_argument("--runtimes", default="torch,ort-fp32,ort-int8")
    p.add_argument("--batch", default="1,8")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--work", default="/tmp/texcnn-bench/onnx")
    p.set_defaults(run=cmd_time)
    p = sub.add_parser("export")
    p.add_argument("model")
    p.add_argument("--work", default="/tmp/texcnn-bench/onnx")
    p.set_defaults(run=cmd_export)
    p = sub.add_parser("peak")
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--work", default="/tmp/texcnn-bench/onnx")
    p.set_defaults(run=cmd_peak)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
