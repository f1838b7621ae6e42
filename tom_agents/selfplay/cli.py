"""``tom-selfplay``: train HOP agents by self-play."""

from __future__ import annotations

import argparse

from ..stats import paired_bootstrap_ci
from .config import PRESETS, load_config
from .train import train


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tom-selfplay", description=__doc__)
    parser.add_argument("--preset", choices=PRESETS, default="quick")
    parser.add_argument("--config", help="a TOML file of settings (over the preset)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting, e.g. --set iterations=20 (repeatable)",
    )
    parser.add_argument("--name", help="run name: outputs go to runs/<name>/")
    parser.add_argument("--device", help="auto (CUDA when available), cpu, cuda, cuda:1 ...")
    parser.add_argument("--workers", type=int, help="Ray actors playing the games (0: none)")
    parser.add_argument("--ray-address", help="an existing Ray cluster (default: start one)")
    parser.add_argument("--share-networks", action="store_true", help="one network for all seats")
    parser.add_argument(
        "--resume", action="store_true", help="continue from the latest good checkpoint"
    )
    args = parser.parse_args(argv)
    overrides = list(args.set)
    for key, value in (
        ("name", args.name),
        ("device", args.device),
        ("workers", args.workers),
        ("ray_address", args.ray_address),
    ):
        if value is not None:
            overrides.append(f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}")
    if args.share_networks:
        overrides.append("share_networks=true")
    config = load_config(args.preset, args.config, overrides)
    trainer = train(config, resume=args.resume)
    last = trainer.metrics[-1] if trainer.metrics else {}
    print(f"run folder: {config.run_dir}")
    print(f"last iteration: {last}")
    if {"untrained", "trained"} <= set(trainer.evaluations):
        mean, lo, hi = paired_bootstrap_ci(
            trainer.evaluations["untrained"], trainer.evaluations["trained"]
        )
        print(
            f"evaluation reward change (trained - untrained): {mean:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}]"
        )
