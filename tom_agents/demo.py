"""staghunt-demo: play one episode of a lineup and write it as an annotated GIF.

Example: staghunt-demo --lineup nearest_stag nearest_stag nearest_hare random --out demo.gif
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from staghunt_env.spec import agent_name

from .cli_args import add_common_options, read_common_options, usage_errors
from .cli_help import game_help, new_parser
from .plugins import import_from_cwd
from .replays import write_replay
from .runner import play_recorded
from .seat_specs import agent_source, lineup_config, short_name, spec_help

DEFAULT_LINEUP = ("nearest_stag", "nearest_stag", "nearest_hare", "nearest_prey")
DEFAULT_OUT = "runs/demo.gif"


def play_lineup(lineup: Sequence[str], seed: int = 0, **config: Any):
    """Play one episode of ``lineup`` (seat specs, one per seat); return (replay, returns)."""
    env_config = lineup_config(list(lineup), config or None)
    sources = {spec: agent_source(spec, env_config, network_seed=seed) for spec in set(lineup)}
    agents = [sources[spec](i, seed + i) for i, spec in enumerate(lineup)]
    replay, episode = play_recorded(env_config, agents, seed=seed)
    return replay, {agent_name(i): float(r) for i, r in enumerate(episode.returns)}


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser("staghunt-demo", __doc__, game_help())
    parser.add_argument("--out", default=DEFAULT_OUT, help="the GIF to write")
    parser.add_argument(
        "--lineup", nargs="+", default=list(DEFAULT_LINEUP), metavar="AGENT", help=spec_help()
    )
    add_common_options(
        parser, device=False, progress=False, game="the default game, one hunter per seat"
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``lineup``, ``seed``, ``env`` (game keywords) and ``out``; a bad value exits with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    import_from_cwd()
    common = read_common_options(parser, args)
    with usage_errors(parser):
        if "num_players" in common.env:
            raise ValueError("--env: num_players is the length of --lineup")
        config = lineup_config(args.lineup, common.env or None)  # refused now, not later
        for spec in dict.fromkeys(args.lineup):
            agent_source(spec, config)  # an unknown or broken agent is named now
    return argparse.Namespace(
        lineup=args.lineup, seed=common.seed or 0, env=common.env, out=args.out
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    replay, returns = play_lineup(args.lineup, seed=args.seed, **args.env)
    write_replay(args.out, replay, [short_name(spec) for spec in args.lineup])
    print(f"{len(replay.frames) - 1} steps; returns {returns}; GIF written to {args.out}")


if __name__ == "__main__":
    main()
