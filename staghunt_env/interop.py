"""Observation options other RL libraries need, as one parallel-env wrapper: :func:`observation_view`.

The stag hunt observes ``{"observation": (H, W, N+3) int8 grid, "action_mask": (7,) int8}``.
Libraries want other things: RLlib's action-masking module the keys ``observations`` and
``action_mask``; TorchRL and AgileRL networks a float grid; MLP policies a flat vector;
SuperSuit's ``black_death_v3`` a Box observation with the mask elsewhere. ``observation_view``
gives each of these from the same env, and its spaces always describe what it returns (the
PettingZoo API test passes on every combination). See docs/interop.md for the recipes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import BaseParallelWrapper

from .spec import NUM_ACTIONS, STAY

DTYPES = ("int8", "float32")


class ObservationView(BaseParallelWrapper):
    """The stag hunt's observations with another dtype, shape or key names; see :func:`observation_view`."""

    def __init__(
        self,
        env: ParallelEnv,
        *,
        dtype: str = "int8",
        flatten: bool = False,
        keys: Sequence[str] | None = ("observation", "action_mask"),
    ) -> None:
        super().__init__(env)
        if str(dtype) not in DTYPES and getattr(dtype, "__name__", None) not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
        if keys is not None:
            keys = tuple(keys)
            if len(keys) != 2 or len(set(keys)) != 2 or not all(isinstance(k, str) for k in keys):
                raise ValueError(f"keys must be two different names (grid, mask), not {keys!r}")
        self.dtype = np.dtype(dtype)
        self.flatten = bool(flatten)
        self.keys = keys
        self.observation_spaces = {a: self._space(a) for a in env.possible_agents}

    def _source_spaces(self, agent: str) -> tuple[spaces.Box, spaces.Box | None]:
        """The wrapped env's grid space, and its mask space (None: the mask is in ``infos``)."""
        space = self.env.observation_space(agent)
        if isinstance(space, spaces.Dict):
            return space["observation"], space["action_mask"]
        if isinstance(space, spaces.Box):  # box_observation(), maybe under black_death_v3
            return space, None
        raise TypeError(f"expected the stag hunt's Dict or Box observations, got {space}")

    def _space(self, agent: str) -> spaces.Space:
        grid, mask = self._source_spaces(agent)
        low, high = grid.low.astype(self.dtype), grid.high.astype(self.dtype)
        if self.flatten:
            low, high = low.reshape(-1), high.reshape(-1)
        grid = spaces.Box(low=low, high=high, dtype=self.dtype)
        if self.keys is None:
            return grid
        if mask is None:
            mask = spaces.Box(0, 1, (NUM_ACTIONS,), np.int8)
        return spaces.Dict({self.keys[0]: grid, self.keys[1]: mask})

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.env.action_space(agent)

    def reset(self, seed: int | None = None, options: dict | None = None):
        observations, infos = self.env.reset(seed=seed, options=options)
        return self._view(observations, infos)

    def step(self, actions: dict[str, Any]):
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        observations, infos = self._view(observations, infos)
        return observations, rewards, terminations, truncations, infos

    def render(self, *args: Any) -> Any:
        return self.env.render(*args)

    def _view(self, observations: dict, infos: dict) -> tuple[dict, dict]:
        viewed, infos = {}, dict(infos)
        for agent, obs in observations.items():
            info = dict(infos.get(agent, {}))
            if isinstance(obs, dict):
                grid, mask = obs["observation"], obs["action_mask"]
            else:  # a Box source: the mask is in infos, and absent for a hunter that
                # black_death_v3 keeps after it left (only STAY, which it ignores, is legal)
                grid, mask = obs, info.get("action_mask")
                if mask is None:
                    mask = np.zeros(NUM_ACTIONS, np.int8)
                    mask[STAY] = 1
            grid = np.asarray(grid).astype(self.dtype, copy=False)
            if self.flatten:
                grid = grid.reshape(-1)
            if self.keys is None:
                viewed[agent] = grid
                info["action_mask"] = mask
            else:
                viewed[agent] = {self.keys[0]: grid, self.keys[1]: mask}
                info.pop("action_mask", None)
            infos[agent] = info
        return viewed, infos


def observation_view(
    env: ParallelEnv,
    *,
    dtype: str = "int8",
    flatten: bool = False,
    keys: Sequence[str] | None = ("observation", "action_mask"),
) -> ObservationView:
    """Wrap a parallel stag hunt so that its observations suit another library.

    Args:
        env: ``staghunt_env.parallel_env(...)``, or an env with its grid as a Box observation and
            the mask in ``infos[agent]["action_mask"]`` (``box_observation``, SuperSuit's
            ``black_death_v3`` on top of it). Under ``black_death_v3`` a hunter that left has
            no mask; it gets one in which only STAY is legal (the wrapper ignores its action).
        dtype: ``"int8"`` (as the env gives it) or ``"float32"`` (for torch networks). Only the
            grid is cast; the mask stays int8 0/1. The space's low and high are kept.
        flatten: the grid as a flat vector of H * W * (N+3) values (row-major, channels last).
        keys: the names of the grid and the mask in the observation dict, e.g.
            ``("observations", "action_mask")`` for RLlib's action-masking module; ``None``:
            the observation is the grid alone and the mask moves to ``infos[agent]["action_mask"]``.

    Returns:
        The wrapped parallel env; ``observation_space(agent)`` matches what it returns.
    """
    return ObservationView(env, dtype=dtype, flatten=flatten, keys=keys)


__all__ = ["ObservationView", "observation_view"]
