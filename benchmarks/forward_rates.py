"""Network forwards against this machine's own matmul rate: how much of the hardware the search uses.

    python -m benchmarks.forward_rates              # the recorded run (about 2 minutes)
    python -m benchmarks.forward_rates --threads 2  # torch on two threads
    python -m benchmarks.forward_rates --quick      # a smoke run

The yardstick, measured in the same run: a 1024x1024 matmul in fp32 and in bf16 on the same
threads. Then the policy-value net and one opponent net, at the paper's size (16/32/32 channels,
512 units, 8x8, 4 players) and the quick preset's (8/16/16, 128, 6x6), evaluated as the search
evaluates them (:class:`tom_agents.inference.InferenceNet`: int8 inputs, padding, fp32 outputs)
in fp32 (also with torch's native convolutions instead of oneDNN's), and in bf16, at several batch
sizes: microseconds per
row and achieved GFLOP/s (FLOPs counted from the layer shapes: 2 x multiply-adds of every
convolution and dense layer).
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from torch import nn

from benchmarks.common import print_header
from staghunt_env import StagHuntConfig
from tom_agents import threads
from tom_agents.defaults import QUICK_GAME
from tom_agents.inference import DTYPES, InferenceNet, InferenceSettings
from tom_agents.nets import OpponentNet, PolicyValueNet

# torch warns about TF32 whenever oneDNN is switched off and on again (irrelevant on a CPU)
warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")

SIZES = {
    "paper": (StagHuntConfig(), {}),
    "quick": (StagHuntConfig.make(**QUICK_GAME), {"channels": (8, 16, 16), "hidden": 128}),
}
# (label, settings, oneDNN's convolutions): torch's native ones are measured to show why the
# package keeps oneDNN's: they are faster for the paper's networks, and for the quick preset's
# the native ones are 1.2-1.35x faster per call but give rows that depend on the batch size,
# which the planner's batch invariance forbids.
FORMS = [
    ("float32", InferenceSettings("float32"), True),
    ("float32, native convolutions", InferenceSettings("float32"), False),
    ("bfloat16", InferenceSettings("bfloat16"), True),
]


def best_seconds(fn, args: tuple, repeats: int, calls: int) -> float:
    """The fastest of ``repeats`` timings of ``calls`` calls ``fn(*args)``, per call (after a
    warm-up; a GPU is synchronised before the clock stops)."""
    sync = torch.cuda.synchronize if args[0].is_cuda else lambda: None
    for _ in range(3):
        fn(*args)
    best = float("inf")
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        sync()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def matmul_gflops(dtype: torch.dtype, repeats: int, device: str) -> float:
    size = 1024 if device == "cpu" else 8192  # a GPU needs a large matmul to reach its rate
    a = torch.randn(size, size, dtype=dtype, device=device)
    b = torch.randn(size, size, dtype=dtype, device=device)
    with torch.inference_mode():
        seconds = best_seconds(torch.matmul, (a, b), repeats, 10)
    return 2 * size**3 / seconds / 1e9


def flops_per_row(net: nn.Module, height: int, width: int) -> int:
    """2 x the multiply-adds of one row's forward (opponent nets: every goal's actor head)."""
    total = 0
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            total += 2 * m.in_channels * m.out_channels * k * height * width
        elif isinstance(m, nn.Linear):
            heads = getattr(net, "num_goals", 1) if m is getattr(net, "actor", None) else 1
            total += 2 * m.in_features * m.out_features * heads
    return total


def inputs(config: StagHuntConfig, rows: int, device: str) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(rows)
    h, w = config.grid_size
    grid = torch.randint(0, 2, (rows, h, w, config.num_channels), generator=gen, dtype=torch.int8)
    t = torch.randint(0, config.max_cycles, (rows,), generator=gen)
    return tuple(x.to(device) for x in (grid, t, torch.ones(rows, 7, dtype=torch.int8)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and batch sizes")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    threads.configure(torch_threads=args.threads)
    repeats = 2 if args.quick else 5
    batches = (8, 320) if args.quick else (8, 64, 320, 1024)
    print_header(
        f"forward_rates: python -m benchmarks.forward_rates --threads {args.threads}"
        + (" --quick" if args.quick else "")
        + (f" --device {args.device}" if args.device != "cpu" else "")
    )
    rates = {name: matmul_gflops(dtype, repeats, args.device) for name, dtype in DTYPES.items()}
    where = f"{args.threads} thread(s)" if args.device == "cpu" else args.device
    print(
        f"yardstick, square matmul on {where}: "
        + ", ".join(f"{name} {gflops:.1f} GFLOP/s" for name, gflops in rates.items())
    )
    print("\n| size | net | batch | form | µs/row | GFLOP/s | share of matmul rate |")
    print("|---|---|---:|---|---:|---:|---:|")
    for size, (config, shape) in SIZES.items():
        h, w = config.grid_size
        torch.manual_seed(0)
        nets = {
            "policy-value": PolicyValueNet(config, **shape).to(args.device),
            "opponent": OpponentNet(config, **shape).to(args.device),
        }
        for net_name, net in nets.items():
            flops = flops_per_row(net, h, w)
            for rows in batches:
                x = inputs(config, rows, args.device)
                for kind, form, onednn in FORMS:
                    run = InferenceNet(net, form)
                    with torch.backends.mkldnn.flags(enabled=onednn, allow_tf32=False):
                        seconds = best_seconds(run, x, repeats, max(2, 2048 // rows))
                    gflops = flops * rows / seconds / 1e9
                    print(
                        f"| {size} | {net_name} | {rows} | {kind} | {seconds / rows * 1e6:.1f} | "
                        f"{gflops:.1f} | {gflops / rates[form.dtype]:.2f} |"
                    )
    for size, (config, shape) in SIZES.items():
        h, w = config.grid_size
        pv, opp = PolicyValueNet(config, **shape), OpponentNet(config, **shape)
        print(
            f"{size}: {flops_per_row(pv, h, w) / 1e6:.2f} MFLOP per policy-value row, "
            f"{flops_per_row(opp, h, w) / 1e6:.2f} per opponent row"
        )


if __name__ == "__main__":
    main()
