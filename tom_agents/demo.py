"""A rendered demo episode between scripted agents: ``staghunt-demo --out demo.gif``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from staghunt_env import StagHuntConfig
from staghunt_env.spec import agent_name

from .cli_args import add_common_options, read_common_options, usage_errors
from .registry import make_agent, registered_agents
from .runner import play_recorded

DEFAULT_LINEUP = ("nearest_stag", "nearest_stag", "nearest_hare", "nearest_prey")


def play_lineup(lineup, seed: int = 0, **config):
    """Play one episode of ``lineup`` (agent names, one per seat); return (frames, returns)."""
    env_config = StagHuntConfig.make(num_players=len(lineup), **config)
    agents = [
        make_agent(name, env_config=env_config, seed=seed + i) for i, name in enumerate(lineup)
    ]
    frames, episode = play_recorded(env_config, agents, seed=seed)
    return frames, {agent_name(i): float(r) for i, r in enumerate(episode.returns)}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``lineup``, ``seed``, ``env`` (game keywords) and ``out``; a bad value exits with status 2."""
    parser = argparse.ArgumentParser(prog="staghunt-demo", description=__doc__)
    parser.add_argument("--out", default="stag_hunt_demo.gif", help="GIF to write")
    parser.add_argument("--lineup", nargs="+", default=list(DEFAULT_LINEUP))
    add_common_options(parser, device=False, progress=False)
    args = parser.parse_args(argv)
    common = read_common_options(parser, args)
    with usage_errors(parser):
        unknown = [name for name in args.lineup if name not in registered_agents()]
        if unknown:
            raise ValueError(f"--lineup: unknown agent(s) {unknown}; known: {registered_agents()}")
        if "num_players" in common.env:
            raise ValueError("--env: num_players is the length of --lineup")
        StagHuntConfig.make(num_players=len(args.lineup), **common.env)  # refused now, not later
    return argparse.Namespace(
        lineup=args.lineup, seed=common.seed or 0, env=common.env, out=args.out
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    frames, returns = play_lineup(args.lineup, seed=args.seed, **args.env)
    import imageio.v2 as imageio

    imageio.mimsave(args.out, frames, duration=0.4, loop=0)
    print(f"{len(frames) - 1} steps; returns {returns}; GIF written to {args.out}")


if __name__ == "__main__":
    main()
