"""``tom-selfplay``: train HOP agents by self-play."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..cli_args import add_common_options, read_common_options, usage_errors
from ..stats import paired_bootstrap_ci
from .config import PRESETS, SelfPlayConfig, build_config
from .train import train


def parse_args(argv: Sequence[str] | None = None) -> tuple[SelfPlayConfig, bool]:
    """(the run's config, resume?) from the command line; a bad value exits with status 2."""
    parser = argparse.ArgumentParser(prog="tom-selfplay", description=__doc__)
    parser.add_argument("--preset", choices=PRESETS, default="quick")
    add_common_options(
        parser,
        settings="a setting over the preset and --config, e.g. --set iterations=20 or "
        "--set planner.num_simulations=16 (repeatable)",
        config=True,
    )
    parser.add_argument("--name", help="run name: outputs go to runs/<name>/")
    parser.add_argument("--workers", type=int, help="Ray actors playing the games (0: none)")
    parser.add_argument("--ray-address", help="an existing Ray cluster (default: start one)")
    parser.add_argument("--share-networks", action="store_true", help="one network for all seats")
    parser.add_argument(
        "--resume", action="store_true", help="continue from the latest good checkpoint"
    )
    args = parser.parse_args(argv)
    common = read_common_options(parser, args)
    layers = common.layers(
        name=args.name,
        workers=args.workers,
        ray_address=args.ray_address,
        share_networks=True if args.share_networks else None,
    )
    with usage_errors(parser):
        return build_config(args.preset, layers), args.resume


def main(argv: Sequence[str] | None = None) -> None:
    config, resume = parse_args(argv)
    trainer = train(config, resume=resume)
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
