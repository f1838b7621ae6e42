"""The PettingZoo ParallelEnv: a batch-of-one view over the shared rules engine."""

from __future__ import annotations

import copy
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from . import observe, rules, validate
from .config import StagHuntConfig, config_from
from .render import Renderer, check_render_mode
from .rules import GameState
from .spec import NUM_ACTIONS, STAY, Catch, agent_name
from .validate import SNAPSHOT_FORMAT

METADATA = {
    "name": "stag_hunt_v0",
    "render_modes": ["human", "rgb_array", "ansi"],
    "is_parallelizable": True,
    "render_fps": 4,
}


def observation_space(config: StagHuntConfig) -> spaces.Dict:
    """Dict(observation=(H, W, N+3) int8 grid, action_mask=(7,) int8)."""
    return spaces.Dict(
        {
            "observation": spaces.Box(0, 1, observe.observation_shape(config), dtype=np.int8),
            "action_mask": spaces.Box(0, 1, (NUM_ACTIONS,), dtype=np.int8),
        }
    )


class StagHuntParallelEnv(ParallelEnv):
    """The Markov Stag Hunt with simultaneous moves (SPEC section 1).

    Keywords are those of :class:`~staghunt_env.config.StagHuntConfig` plus ``render_mode``.
    Every agent's info is ``{"t": steps taken, "caught": a Catch}``, the same keys at reset and
    at every step: ``caught`` is what the agent caught in the last step (NOTHING at reset).
    Beyond the PettingZoo API it offers exact ``get_state``/``set_state``/``clone`` for planning.
    """

    metadata = METADATA

    def __init__(self, render_mode: str | None = None, **config: Any) -> None:
        self.config = config_from(**config)
        self.render_mode = check_render_mode(render_mode, METADATA["render_modes"])
        n = self.config.num_players
        self.possible_agents = [agent_name(i) for i in range(n)]
        self._agent_index = {a: i for i, a in enumerate(self.possible_agents)}
        obs_space = observation_space(self.config)
        self.observation_spaces = {a: obs_space for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(NUM_ACTIONS) for a in self.possible_agents}
        self.state_space = spaces.Box(0, 1, observe.observation_shape(self.config), dtype=np.int8)
        self.agents: list[str] = []
        self._game = GameState.zeros(self.config, 1)
        self._rng: np.random.Generator | None = None
        self._actions = np.full((1, n), STAY, dtype=np.int64)
        self._renderer = Renderer(self.metadata["render_fps"])

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    # ------------------------------------------------------------------ episode

    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, Any], dict[str, dict]]:
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(validate.check_seed(seed))
        rules.reset(self.config, self._game, self._rng)
        self.agents = self.possible_agents[:]
        observations = self._observations(self.agents)
        infos = {a: self._info(Catch.NOTHING) for a in self.agents}
        if self.render_mode == "human":
            self.render()
        return observations, infos

    def step(self, actions: dict[str, Any]):
        """Apply the joint action of the live agents; departed agents' actions are ignored."""
        acting = self.agents
        if not acting:
            return {}, {}, {}, {}, {}
        for agent in acting:
            if agent not in actions:
                raise ValueError(f"step: no action for live agent {agent!r}")
            self._actions[0, self._agent_index[agent]] = self.check_action(agent, actions[agent])
        unknown = set(actions) - set(self.possible_agents)
        if unknown:
            raise ValueError(f"step: unknown agent(s) {sorted(unknown)}")
        _, rewards, terminated, truncated, caught = rules.step(
            self.config, self._game, self._actions, inplace=True
        )
        observations = self._observations(acting)
        idx = [self._agent_index[a] for a in acting]
        out_rewards = {a: float(rewards[0, i]) for a, i in zip(acting, idx)}
        out_term = {a: bool(terminated[0, i]) for a, i in zip(acting, idx)}
        out_trunc = {a: bool(truncated[0, i]) for a, i in zip(acting, idx)}
        infos = {a: self._info(caught[0, i]) for a, i in zip(acting, idx)}
        self.agents = [a for a in acting if not (out_term[a] or out_trunc[a])]
        if self.render_mode == "human":
            self.render()
        return observations, out_rewards, out_term, out_trunc, infos

    def check_action(self, agent: str, action: Any) -> int:
        """The action as an int, or a ValueError that names the agent and the bad value.

        Integers only, as ``Discrete(7).contains`` decides (no floats), and no bools.
        """
        if type(action) is int and 0 <= action < NUM_ACTIONS:  # the common case, without a call
            return action
        return validate.check_action(action, f"action for {agent!r}")

    def _observations(self, agents: list[str]) -> dict[str, Any]:
        obs, mask = observe.observe(self._game)
        return {
            a: {"observation": obs[0, i], "action_mask": mask[0, i]}
            for a, i in ((a, self._agent_index[a]) for a in agents)
        }

    def _info(self, caught: int) -> dict[str, Any]:
        return {"t": int(self._game.t[0]), "caught": Catch(int(caught))}

    def state(self) -> np.ndarray:
        """The global grid (H, W, N+3) int8, player channels in index order."""
        return observe.global_grid(self._game)[0]

    @property
    def game_state(self) -> GameState:
        """The rules engine's state (a batch of one); read it, don't write it."""
        return self._game

    # ------------------------------------------------------------------ snapshots

    def get_state(self) -> dict[str, Any]:
        """A self-contained, picklable snapshot of the episode, RNG included."""
        return {
            "format": SNAPSHOT_FORMAT,
            "config": self.config.to_dict(),
            "game": {k: v.copy() for k, v in self._game.arrays().items()},
            "agents": list(self.agents),
            "rng": None if self._rng is None else copy.deepcopy(self._rng.bit_generator.state),
        }

    def set_state(self, snapshot: dict[str, Any]) -> None:
        """Restore a snapshot from :meth:`get_state`; ValueError says what does not fit
        (:func:`staghunt_env.validate.parallel_snapshot`), and then nothing changes."""
        self._restore(*validate.parallel_snapshot(snapshot, self.config))

    def _restore(self, game: GameState, agents: list[str], rng: np.random.Generator | None) -> None:
        self._game, self.agents, self._rng = game, agents, rng

    def clone(self) -> StagHuntParallelEnv:
        """An independent copy at the same point of the same episode."""
        return copy.deepcopy(self)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "render_mode": self.render_mode,
            "snapshot": self.get_state(),
        }

    def __setstate__(self, data: dict[str, Any]) -> None:
        self.__init__(render_mode=data["render_mode"], config=data["config"])
        self.set_state(data["snapshot"])

    # ------------------------------------------------------------------ rendering

    def render(self, *args: Any) -> Any:
        """Render in ``render_mode`` (a positional mode, as RLlib passes, is accepted)."""
        mode = args[0] if args and args[0] in self.metadata["render_modes"] else self.render_mode
        if mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode=...")
            return None
        return self._renderer.render(self._game, mode)

    def close(self) -> None:
        self._renderer.close()

    def __str__(self) -> str:
        return self.metadata["name"]
