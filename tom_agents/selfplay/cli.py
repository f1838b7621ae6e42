"""``tom-selfplay``: train HOP agents by self-play."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..cli_args import (
    RunOptions,
    add_common_options,
    add_run_options,
    read_common_options,
    read_run_options,
    run_errors,
    usage_errors,
)
from ..stats import paired_bootstrap_ci
from .config import PRESETS, SelfPlayConfig, build_config
from .train import train

PROG = "tom-selfplay"


def parse_args(argv: Sequence[str] | None = None) -> tuple[SelfPlayConfig, RunOptions]:
    """(the run's config, how it takes its folder); a bad value exits with status 2."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--preset", choices=PRESETS, default="quick")
    add_common_options(
        parser,
        settings="a setting over the preset and --config, e.g. --set iterations=20 or "
        "--set planner.num_simulations=16 (repeatable)",
        config=True,
    )
    parser.add_argument(
        "--name",
        help="run name: outputs go to runs/<name>/ (default: the preset's name, numbered "
        "<name>_2, <name>_3, ... when an earlier run has it)",
    )
    parser.add_argument("--workers", type=int, help="Ray actors playing the games (0: none)")
    parser.add_argument("--ray-address", help="an existing Ray cluster (default: start one)")
    parser.add_argument("--share-networks", action="store_true", help="one network for all seats")
    add_run_options(parser, "runs/<name>/")
    args = parser.parse_args(argv)
    common = read_common_options(parser, args)
    layers = common.layers(
        name=args.name,
        workers=args.workers,
        ray_address=args.ray_address,
        share_networks=True if args.share_networks else None,
    )
    with usage_errors(parser):
        return build_config(args.preset, layers), read_run_options(args, common, "name")


def main(argv: Sequence[str] | None = None) -> None:
    config, run = parse_args(argv)
    with run_errors(PROG):
        trainer = train(config, run.resume, run.overwrite, fresh_folder=run.fresh)
    last = trainer.metrics[-1] if trainer.metrics else {}
    print(f"run folder: {trainer.config.run_dir}")
    print(f"last iteration: {last}")
    if {"untrained", "trained"} <= set(trainer.evaluations):
        mean, lo, hi = paired_bootstrap_ci(
            trainer.evaluations["untrained"], trainer.evaluations["trained"]
        )
        print(
            f"evaluation reward change (trained - untrained): {mean:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}]"
        )
