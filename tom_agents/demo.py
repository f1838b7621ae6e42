"""A rendered demo episode between scripted agents: ``staghunt-demo --out demo.gif``."""

from __future__ import annotations

import argparse

import staghunt_env

from .registry import make_agent

DEFAULT_LINEUP = ("nearest_stag", "nearest_stag", "nearest_hare", "nearest_prey")


def play_episode(lineup, seed: int = 0, render_mode: str = "rgb_array", **config):
    """Play one episode of ``lineup`` (agent names, one per seat); return (frames, returns)."""
    env = staghunt_env.parallel_env(num_players=len(lineup), render_mode=render_mode, **config)
    observations, infos = env.reset(seed=seed)
    agents = {
        a: make_agent(name, env_config=env.config, seed=seed + i)
        for i, (a, name) in enumerate(zip(env.possible_agents, lineup))
    }
    for agent_id, agent in agents.items():
        agent.reset(agent_id)
    frames, returns = [env.render()], dict.fromkeys(env.possible_agents, 0.0)
    while env.agents:
        actions = {a: agents[a].act(observations[a], infos[a]) for a in env.agents}
        observations, rewards, _, _, infos = env.step(actions)
        for a, r in rewards.items():
            returns[a] += r
        frames.append(env.render())
    final = env.state()
    for agent in agents.values():
        agent.end_episode(final)
    env.close()
    return frames, returns


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="stag_hunt_demo.gif", help="GIF to write")
    parser.add_argument("--lineup", nargs="+", default=list(DEFAULT_LINEUP))
    args = parser.parse_args(argv)
    frames, returns = play_episode(args.lineup, seed=args.seed)
    import imageio.v2 as imageio

    imageio.mimsave(args.out, frames, duration=0.4, loop=0)
    print(f"{len(frames) - 1} steps; returns {returns}; GIF written to {args.out}")


if __name__ == "__main__":
    main()
