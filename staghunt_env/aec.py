"""The AEC view: agents act one after another, and the joint step runs when the last live agent has acted."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers
from pettingzoo.utils.env_logger import EnvLogger

from . import validate
from ._compat import AgentSelector
from .parallel import METADATA, StagHuntParallelEnv
from .spec import Catch

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
_OPTIONAL_TURN_FIELDS = ("_skip_agent_selection",)  # PettingZoo sets it on the first dead step
_PER_AGENT = ("rewards", "_cumulative_rewards", "terminations", "truncations", "infos")


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
        """Restore a snapshot from :meth:`get_state`; ValueError says what does not fit, and then
        nothing changes."""
        if not isinstance(snapshot, dict) or not isinstance(snapshot.get("aec"), dict):
            raise ValueError(
                "not an AEC snapshot: it has no 'aec' turn bookkeeping (was it taken from a parallel env?)"
            )
        turn = snapshot["aec"]
        missing = set(_TURN_FIELDS) - set(turn)
        if missing:
            raise ValueError(f"AEC snapshot is missing {sorted(missing)}")
        unknown = set(turn) - set(_TURN_FIELDS) - set(_OPTIONAL_TURN_FIELDS)
        if unknown:
            raise ValueError(f"AEC snapshot has unknown turn field(s) {sorted(unknown, key=repr)}")
        parallel = {k: v for k, v in snapshot.items() if k != "aec"}
        game, agents, rng = validate.parallel_snapshot(parallel, self.config)
        self._check_turns(turn, agents, int(game.t[0]))
        self._parallel._restore(game, agents, rng)
        turn = {"_skip_agent_selection": None, **copy.deepcopy(turn)}
        for name, value in turn.items():
            setattr(self, name, value)

    def _check_turns(self, turn: dict[str, Any], live: list[str], t: int) -> None:
        """ValueError unless ``turn`` is bookkeeping this env could have at a game with ``live``
        agents in play at step ``t`` (PettingZoo's rules for dead agents' last turns included)."""
        agents = turn["agents"]
        if (
            not isinstance(agents, list)
            or [a for a in self.possible_agents if a in agents] != agents
        ):
            raise ValueError(
                f"aec['agents'] must list distinct agents of {self.possible_agents} in that order, "
                f"got {agents!r}"
            )
        for name in _PER_AGENT:
            if not isinstance(turn[name], dict) or set(turn[name]) != set(agents):
                raise ValueError(f"aec[{name!r}] must be a dict keyed by aec['agents'] {agents}")
        for agent in agents:
            _check_agent_turn(turn, agent, t)
        done = [a for a in agents if turn["terminations"][a] or turn["truncations"][a]]
        if [a for a in agents if a not in done] != live:
            raise ValueError(
                f"aec['agents'] not terminated or truncated are {[a for a in agents if a not in done]}, "
                f"but the game has {live} in play"
            )
        selector = turn["_agent_selector"]
        _check_selector(selector, self.possible_agents, live)
        selection, skip = turn["agent_selection"], turn.get("_skip_agent_selection")
        expected = (done[0], selector.selected_agent) if done else (selector.selected_agent, None)
        if (selection, skip) != expected:
            raise ValueError(
                f"aec['agent_selection'], aec['_skip_agent_selection'] are {(selection, skip)!r}; "
                f"after these turns they are {expected!r} (done agents take their last turn first)"
            )
        pending = turn["_pending"]
        acted = selector.agent_order[: selector._current_agent - 1] if live and not done else []
        if not isinstance(pending, dict) or list(pending) != acted:
            raise ValueError(f"aec['_pending'] must hold the actions of {acted}, got {pending!r}")
        for agent, action in pending.items():
            validate.check_action(action, f"aec['_pending'][{agent!r}]")
        observations = turn["_last_observations"]
        if not isinstance(observations, dict) or set(observations) != set(self.possible_agents):
            raise ValueError("aec['_last_observations'] must be a dict keyed by every agent")
        for agent, observation in observations.items():
            if not self.observation_spaces[agent].contains(observation):
                raise ValueError(f"aec['_last_observations'][{agent!r}] is not an observation")

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


def _check_agent_turn(turn: dict[str, Any], agent: str, t: int) -> None:
    for name in ("rewards", "_cumulative_rewards"):
        value = turn[name][agent]
        if not validate.is_finite_number(value):
            raise ValueError(f"aec[{name!r}][{agent!r}] must be a finite number, got {value!r}")
    for name in ("terminations", "truncations"):
        if not isinstance(turn[name][agent], (bool, np.bool_)):
            raise ValueError(f"aec[{name!r}][{agent!r}] must be a bool, got {turn[name][agent]!r}")
    info = turn["infos"][agent]
    if not (
        isinstance(info, dict)
        and set(info) == {"t", "caught"}
        and validate.is_integer(info["t"])
        and 0 <= info["t"] <= t
        and isinstance(info["caught"], Catch)
    ):
        raise ValueError(
            f"aec['infos'][{agent!r}] must be {{'t': 0..{t}, 'caught': a Catch}}, got {info!r}"
        )


def _check_selector(selector: Any, possible: list[str], live: list[str]) -> None:
    """An AgentSelector over distinct agents (the live ones while any are), at a valid turn."""
    order = getattr(selector, "agent_order", None)
    ok = (
        isinstance(selector, AgentSelector)
        and isinstance(order, list)
        and len(order) > 0
        and [a for a in possible if a in order] == order
        and (order == live or not live)
        and validate.is_integer(selector._current_agent)
        and 0 <= selector._current_agent < len(order)
        and selector.selected_agent == order[selector._current_agent - 1]
    )
    if not ok:
        raise ValueError(f"aec['_agent_selector'] is not a turn over the agents in play {live}")


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
