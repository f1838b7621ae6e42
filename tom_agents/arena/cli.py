"""``tom-arena``: play matches of a lineup and write episodes.csv, summary.md, rewards.png (and GIFs).

Example: ``tom-arena hop nearest_stag nearest_stag nearest_hare --episodes 10 --matches 8``.
"""

from __future__ import annotations

import argparse

from ..cli_args import parse_key_values
from .match import play
from .report import write_outputs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tom-arena", description=__doc__)
    parser.add_argument(
        "lineup",
        nargs="+",
        help="one agent per seat: a registered name, ppo:PATH or checkpoint:PATH",
    )
    parser.add_argument("--episodes", type=int, default=10, help="episodes per match (K)")
    parser.add_argument("--matches", type=int, default=8, help="matches, played at once")
    parser.add_argument("--seed", type=int, default=0, help="match seeds: seed .. seed+matches-1")
    parser.add_argument("--out", default="runs/arena", help="folder for the outputs")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="game setting, e.g. --env grid_size=[6,6] (default: the checkpoints' game)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="planner option for every planner, e.g. --set num_simulations=50",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    parser.add_argument("--workers", type=int, default=0, help="Ray tasks (0: this process)")
    parser.add_argument("--gif", action="store_true", help="GIF replays of the first match")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.gif:
        try:
            import imageio  # noqa: F401  (checked now, not after the matches)
        except ImportError:
            parser.error("--gif needs imageio: pip install 'staghunt-tom[render]'")
    try:
        env = parse_key_values(args.env, "--env")
        result = play(
            args.lineup,
            args.episodes,
            range(args.seed, args.seed + args.matches),
            env_config=env or None,
            planner_options=parse_key_values(args.set),
            device=args.device,
            workers=args.workers,
            record_frames=args.gif,
            progress=not args.no_progress,
        )
    except ValueError as e:
        parser.error(str(e))
    paths = write_outputs(result, args.out)
    print(paths["markdown"].read_text())
    print("written:", ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
