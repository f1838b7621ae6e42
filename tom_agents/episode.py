"""One episode of a PettingZoo stag hunt between agents: the loop every runner shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import Agent


def play_episode(
    env: Any, agents: Mapping[str, Agent], seed: int | None = None, render: bool = False
) -> tuple[list[Any], dict[str, float]]:
    """Reset ``env``, let each agent act for its seat until the episode ends, and close the episode.

    Returns the rendered frames (when ``render``) and each seat's return. Every agent gets the
    final global state in ``end_episode``, so that agents that left early see how it ended.
    """
    observations, infos = env.reset(seed=seed)
    for agent_id, agent in agents.items():
        agent.reset(agent_id)
    frames = [env.render()] if render else []
    returns = dict.fromkeys(env.possible_agents, 0.0)
    while env.agents:
        actions = {a: agents[a].act(observations[a], infos[a]) for a in env.agents}
        observations, rewards, _, _, infos = env.step(actions)
        for a, r in rewards.items():
            returns[a] += r
        if render:
            frames.append(env.render())
    final = env.state()
    for agent in agents.values():
        agent.end_episode(final_state=final)
    return frames, returns
