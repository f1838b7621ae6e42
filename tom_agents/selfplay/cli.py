"""tom-selfplay: train HOP agents by self-play.

Many games are played at once; each iteration collects steps_per_iteration agent-steps, trains
the policy-value networks and the opponent models on them, logs metrics.csv and TensorBoard,
and every checkpoint_every iterations writes a checkpoint. Settings come from the preset, then
--config, then --set, --env and the options below. Outputs go to runs/<name>/.
"""

from __future__ import annotations

import argparse
import textwrap
import time
from collections.abc import Sequence

import numpy as np

from ..cli_args import (
    PLANNER_SCHEMA,
    RunOptions,
    add_common_options,
    add_run_options,
    read_common_options,
    read_run_options,
    run_errors,
    usage_errors,
)
from ..cli_help import game_help, new_parser, settings_help, shown
from ..stats import paired_bootstrap_ci
from .config import PRESETS, SCHEMA, SelfPlayConfig, build_config, preset
from .train import Trainer, train

PROG = "tom-selfplay"
PRESET_PURPOSE = {
    "quick": "a few minutes on a laptop CPU, still learning",
    "paper": "SPEC section 2, the paper's settings (hours)",
}


def presets_help() -> str:
    """Each preset: what it is for and what it changes from the defaults (paper's)."""
    base = _flat(preset("paper").to_dict())
    lines = ["presets (--preset):"]
    for name in PRESETS:
        changed = [
            f"{key}={shown(value)}"
            for key, value in _flat(preset(name).to_dict()).items()
            if key != "name" and base.get(key) != value
        ]
        text = f"{name}: {PRESET_PURPOSE[name]}" + (
            f"; changes: {', '.join(changed)}" if changed else ""
        )
        lines.append(textwrap.fill(text, 95, initial_indent="  ", subsequent_indent="    "))
    return "\n".join(lines)


def _flat(values: dict) -> dict:
    """A config's settings as --set spells them: env.KEY, planner keys bare."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update({("env." if key == "env" else "") + k: v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def build_parser() -> argparse.ArgumentParser:
    columns = [preset(name).to_dict() for name in PRESETS]
    heading = " | ".join(PRESETS)
    epilog = "\n\n".join(
        [
            presets_help(),
            settings_help(
                f"settings, --set KEY=VALUE or in --config (default in {heading}; type):",
                SCHEMA,
                columns,
            ),
            settings_help(
                f"planner settings, --set KEY=VALUE or planner.KEY=VALUE (default in {heading}; "
                "type):",
                PLANNER_SCHEMA,
                [c["planner"] for c in columns],
            ),
            game_help(*(c["env"] for c in columns)).replace(
                "(default;", f"or --set env.KEY=VALUE (default in {heading};"
            ),
        ]
    )
    parser = new_parser(PROG, __doc__, epilog)
    parser.add_argument(
        "--preset", choices=PRESETS, default="quick", help="the settings to start from (below)"
    )
    add_common_options(
        parser,
        settings="a setting (listed below) over the preset and --config, e.g. --set "
        "iterations=20 or --set planner.num_simulations=16; repeatable (default: the preset's)",
        config=True,
        game="the preset's game",
    )
    parser.add_argument(
        "--name",
        help="run name: outputs go to runs/<name>/ (default: the preset's name, numbered "
        "<name>_2, <name>_3, ... when an earlier run has it)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="Ray actors playing the games, a CPU each; 0: play in this process (default: one "
        "per free core where two or more are free and Ray is installed, else 0)",
    )
    parser.add_argument(
        "--ray-address", help="an existing Ray cluster (default: start one on this machine)"
    )
    parser.add_argument(
        "--share-networks",
        action="store_true",
        help="one network for all seats instead of one per seat (the quick preset shares)",
    )
    add_run_options(parser, "runs/<name>/")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> tuple[SelfPlayConfig, RunOptions]:
    """(the run's config, how it takes its folder); a bad value exits with status 2."""
    parser = build_parser()
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


def summary(trainer: Trainer, seconds: float) -> str:
    """One line on what the run did: its size and time, the last rewards, the evaluation."""
    config, last = trainer.config, (trainer.metrics[-1] if trainer.metrics else {})
    steps = sum(m.get("env_steps", 0) for m in trainer.metrics)
    parts = [f"{config.name}: {trainer.iteration} iterations, {steps} env steps in {seconds:.0f} s"]
    if "reward_mean" in last:
        parts.append(
            f"last iteration reward {last['reward_mean']:.2f} (stag {last['stag_rate']:.0%}, "
            f"hare {last['hare_rate']:.0%})"
        )
    if {"untrained", "trained"} <= set(trainer.evaluations):
        before, after = trainer.evaluations["untrained"], trainer.evaluations["trained"]
        mean, lo, hi = paired_bootstrap_ci(before, after)
        parts.append(
            f"evaluation reward {np.mean(before):.2f} -> {np.mean(after):.2f} "
            f"({mean:+.2f}, 95% CI [{lo:+.2f}, {hi:+.2f}])"
        )
    parts.append(f"outputs in {config.run_dir}/")
    return "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    config, run = parse_args(argv)
    start = time.perf_counter()
    with run_errors(PROG):
        trainer = train(config, run.resume, run.overwrite, fresh_folder=run.fresh)
    print(summary(trainer, time.perf_counter() - start))
