"""A rendered demo episode between scripted agents: ``staghunt-demo --out demo.gif``."""

from __future__ import annotations

import argparse

import staghunt_env

from .episode import play_episode
from .registry import make_agent

DEFAULT_LINEUP = ("nearest_stag", "nearest_stag", "nearest_hare", "nearest_prey")


def play_lineup(lineup, seed: int = 0, render_mode: str = "rgb_array", **config):
    """Play one episode of ``lineup`` (agent names, one per seat); return (frames, returns)."""
    env = staghunt_env.parallel_env(num_players=len(lineup), render_mode=render_mode, **config)
    agents = {
        a: make_agent(name, env_config=env.config, seed=seed + i)
        for i, (a, name) in enumerate(zip(env.possible_agents, lineup))
    }
    frames, returns = play_episode(env, agents, seed=seed, render=True)
    env.close()
    return frames, returns


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="stag_hunt_demo.gif", help="GIF to write")
    parser.add_argument("--lineup", nargs="+", default=list(DEFAULT_LINEUP))
    args = parser.parse_args(argv)
    frames, returns = play_lineup(args.lineup, seed=args.seed)
    import imageio.v2 as imageio

    imageio.mimsave(args.out, frames, duration=0.4, loop=0)
    print(f"{len(frames) - 1} steps; returns {returns}; GIF written to {args.out}")


if __name__ == "__main__":
    main()
