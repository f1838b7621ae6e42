"""Views that other libraries need: the grid alone as a Box (SuperSuit, Stable-Baselines3, ...)."""

from __future__ import annotations

from typing import Any

from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import BaseParallelWrapper


class BoxObservation(BaseParallelWrapper):
    """Observations become the (H, W, N+3) int8 grid; the action mask moves to ``infos[agent]["action_mask"]``.

    SuperSuit's vector-env and black-death wrappers need Box observations, so use this before them.
    """

    def __init__(self, env: ParallelEnv) -> None:
        super().__init__(env)
        self.observation_spaces = {
            a: env.observation_space(a)["observation"] for a in env.possible_agents
        }

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.env.action_space(agent)

    def reset(self, seed: int | None = None, options: dict | None = None):
        observations, infos = self.env.reset(seed=seed, options=options)
        return self._split(observations, infos)

    def step(self, actions: dict[str, Any]):
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        observations, infos = self._split(observations, infos)
        return observations, rewards, terminations, truncations, infos

    def render(self, *args: Any) -> Any:
        return self.env.render(*args)

    @staticmethod
    def _split(observations: dict, infos: dict) -> tuple[dict, dict]:
        grids = {a: o["observation"] for a, o in observations.items()}
        infos = {
            a: {**infos.get(a, {}), "action_mask": o["action_mask"]}
            for a, o in observations.items()
        }
        return grids, infos


def box_observation(env: ParallelEnv) -> BoxObservation:
    """Wrap a parallel stag hunt so that observations are the grid as a Box (mask in ``infos``)."""
    return BoxObservation(env)
