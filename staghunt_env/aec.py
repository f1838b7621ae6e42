"""The AEC view: agents act one after another, and the joint step runs when the last live agent has acted."""

from __future__ import annotations

import copy
from typing import Any

from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector, wrappers
from pettingzoo.utils.env_logger import EnvLogger

from .parallel import METADATA, StagHuntParallelEnv

# The turn bookkeeping that a snapshot of the AEC env carries beside the game.
_TURN_FIELDS = (
    "agents",
    "rewards",
    "_cumulative_rewards",
    "terminations",
    "truncations",
    "infos",
    "agent_selection",
    "_agent_selector",
    "_pending",
    "_last_observations",
)


class raw_env(AECEnv):  # noqa: N801 (PettingZoo's naming convention)
    """The Markov Stag Hunt as an AEC env; the moves still resolve simultaneously (SPEC section 1).

    ``infos`` are the parallel env's (``{"t", "caught"}``) and change only when the joint step
    runs, after the last live agent's turn: until then every agent's info describes the
    previous joint step, and a hunter that caught something sees its catch in ``last()`` on
    its final (dead) turn.
    """

    metadata = METADATA

    def __init__(self, render_mode: str | None = None, **config: Any) -> None:
        self._parallel = StagHuntParallelEnv(render_mode=render_mode, **config)
        self.config = self._parallel.config
        self.render_mode = render_mode
        self.possible_agents = self._parallel.possible_agents[:]
        self.observation_spaces = self._parallel.observation_spaces
        self.action_spaces = self._parallel.action_spaces
        self.state_space = self._parallel.state_space
        self.agents: list[str] = []

    def observation_space(self, agent: str):
        return self.observation_spaces[agent]

    def action_space(self, agent: str):
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self._last_observations, self.infos = self._parallel.reset(seed=seed, options=options)
        self.agents = self._parallel.agents[:]
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self._pending: dict[str, int] = {}
        self._agent_selector = AgentSelector(self.agents[:])
        self.agent_selection = self._agent_selector.reset()

    def observe(self, agent: str) -> dict[str, Any]:
        return self._last_observations[agent]

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._pending[agent] = self._parallel.check_action(agent, action)
        self._cumulative_rewards[agent] = 0.0
        if not self._agent_selector.is_last():
            if self._agent_selector.is_first():
                self._clear_rewards()
            self.agent_selection = self._agent_selector.next()
            return
        observations, rewards, terminations, truncations, infos = self._parallel.step(self._pending)
        self._pending = {}
        self._last_observations.update(observations)
        self.rewards = {a: rewards.get(a, 0.0) for a in self.agents}
        self.terminations.update(terminations)
        self.truncations.update(truncations)
        self.infos.update(infos)
        self._accumulate_rewards()
        if self._parallel.agents:
            self._agent_selector.reinit(self._parallel.agents[:])
            self.agent_selection = self._agent_selector.reset()
        self._deads_step_first()
        if self.render_mode == "human":
            self.render()

    def state(self):
        return self._parallel.state()

    def get_state(self) -> dict[str, Any]:
        """A picklable snapshot: the game, the RNG and the turn bookkeeping."""
        if not hasattr(self, "_agent_selector"):
            raise ValueError("get_state() needs an episode: call reset() first")
        snapshot = self._parallel.get_state()
        snapshot["aec"] = copy.deepcopy(
            {f: getattr(self, f) for f in _TURN_FIELDS}
            | {"_skip_agent_selection": getattr(self, "_skip_agent_selection", None)}
        )
        return snapshot

    def set_state(self, snapshot: dict[str, Any]) -> None:
        if not isinstance(snapshot, dict) or not isinstance(snapshot.get("aec"), dict):
            raise ValueError(
                "not an AEC snapshot: it has no 'aec' turn bookkeeping (was it taken from a parallel env?)"
            )
        turn = snapshot["aec"]
        missing = set(_TURN_FIELDS) - set(turn)
        if missing:
            raise ValueError(f"AEC snapshot is missing {sorted(missing)}")
        self._parallel.set_state({k: v for k, v in snapshot.items() if k != "aec"})
        for name, value in copy.deepcopy(turn).items():
            setattr(self, name, value)

    def clone(self) -> raw_env:
        return copy.deepcopy(self)

    def __getstate__(self) -> dict[str, Any]:
        data = self._parallel.__getstate__()
        data["snapshot"] = self.get_state() if hasattr(self, "_agent_selector") else None
        return data

    def __setstate__(self, data: dict[str, Any]) -> None:
        self.__init__(render_mode=data["render_mode"], config=data["config"])
        if data["snapshot"] is not None:
            self.set_state(data["snapshot"])

    def render(self, *args: Any) -> Any:
        return self._parallel.render(*args)

    def close(self) -> None:
        self._parallel.close()

    def __str__(self) -> str:
        return self.metadata["name"]


class _OrderEnforcing(wrappers.OrderEnforcingWrapper):
    """PettingZoo's call-order checks, with ``render(mode)`` passed through as RLlib calls it."""

    def render(self, *args: Any) -> Any:
        if not args:
            return super().render()
        if not self._has_reset:
            EnvLogger.error_render_before_reset()
        return self.unwrapped.render(*args)


def env(**kwargs: Any) -> AECEnv:
    """The AEC env inside PettingZoo's standard wrappers (bounds and call-order checks)."""
    return _OrderEnforcing(wrappers.AssertOutOfBoundsWrapper(raw_env(**kwargs)))
