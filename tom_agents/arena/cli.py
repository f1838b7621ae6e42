"""tom-arena: play matches of a lineup and write episodes.csv, summary.md, rewards.png (and GIFs).

Each match is one set of agents, one per seat, playing --episodes consecutive episodes (what
they learn about their co-players carries over); matches are played at once.
Example: tom-arena hop nearest_stag nearest_stag nearest_hare --episodes 10 --matches 8
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence

from .. import threads
from ..atomic import gifs_available
from ..cli_args import (
    PLANNER_SCHEMA,
    add_common_options,
    add_run_options,
    planner_settings,
    read_common_options,
    read_run_options,
    run_errors,
    usage_errors,
)
from ..cli_help import game_help, new_parser, settings_help
from ..planner.options import PlannerOptions
from ..plugins import import_from_cwd
from ..run_folders import Place, claim
from ..seat_specs import spec_help
from .match import play
from .report import OUTPUTS, write_outputs

PROG = "tom-arena"
DEFAULT_OUT = "runs/arena"


def build_parser() -> argparse.ArgumentParser:
    epilog = "\n\n".join(
        [
            settings_help(
                "planner options, --set KEY=VALUE (default; type):",
                PLANNER_SCHEMA,
                [dataclasses.asdict(PlannerOptions())],
            ),
            game_help(),
        ]
    )
    parser = new_parser(PROG, __doc__, epilog)
    parser.add_argument("lineup", nargs="+", metavar="AGENT", help=spec_help())
    parser.add_argument("--episodes", type=int, default=10, help="episodes per match (K)")
    parser.add_argument("--matches", type=int, default=8, help="matches, played at once")
    parser.add_argument(
        "--out",
        help=f"folder for the outputs (default: {DEFAULT_OUT}, numbered {DEFAULT_OUT}_2, ... "
        "when an earlier run has it)",
    )
    add_common_options(
        parser,
        settings="a planner option (listed below) for every planner, e.g. --set "
        "num_simulations=50 (or planner.num_simulations=50); repeatable (default: each "
        "planner's own options)",
        game="the checkpoints' game, else the default game with one hunter per seat",
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="Ray workers to spread the matches over (0: none)"
    )
    parser.add_argument("--gif", action="store_true", help="GIF replays of the first match")
    add_run_options(parser, "--out", resumable=False)
    return parser


def parse_args(
    argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None
) -> argparse.Namespace:
    """The command line as ``play`` keywords (``env_config``, ``planner_options``, ``seeds``, ...)
    plus ``out`` and ``run`` (how the run takes its folder); a bad value exits with status 2."""
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    import_from_cwd()
    common = read_common_options(parser, args)
    if args.gif and not gifs_available():  # checked now, not after the matches
        parser.error("--gif needs imageio: pip install 'staghunt-tom[render]'")
    seed = common.seed or 0
    with usage_errors(parser):
        planner_options = planner_settings(common.settings)
    return argparse.Namespace(
        lineup=args.lineup,
        episodes=args.episodes,
        seeds=range(seed, seed + args.matches),
        env_config=common.env or None,  # none given: the checkpoints' game
        planner_options=planner_options,
        device=common.device or "auto",
        workers=args.workers,
        record_frames=args.gif,
        progress=common.progress,
        out=args.out or DEFAULT_OUT,
        run=read_run_options(args, common, "out"),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    options = vars(parse_args(argv, parser))
    out, run = options.pop("out"), options.pop("run")
    threads.configure()
    place = Place.run_folder(out, OUTPUTS)
    with run_errors(PROG):
        held = claim(
            place, overwrite=run.overwrite, fresh=run.fresh, rename="--out", resumable=False
        )
        with held:
            with usage_errors(parser):
                result = play(**options)
            paths = write_outputs(result, held.path)
    print(paths["markdown"].read_text())
    print("written:", ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
