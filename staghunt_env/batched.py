"""BatchedStagHunt: many games in lockstep on preallocated arrays, with automatic reset."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import observe, rules, validate
from .config import config_from
from .rules import GameState
from .spec import CAUGHT_NOTHING, NUM_ACTIONS


class BatchedStagHunt:
    """``num_envs`` games stepped together by the shared rules engine.

    ``step(actions[B, N])`` returns ``(obs, action_mask, rewards, terminated, truncated)``:
    ``obs`` (B, N, H, W, N+3) int8 and ``action_mask`` (B, N, 7) int8 as each player sees the
    game, ``rewards`` (B, N) float32, ``terminated``/``truncated`` (B, N) bool marking the
    players whose episode ended in this step. What each player caught in that step is in the
    attribute ``caught`` (B, N) int8, a :class:`~staghunt_env.spec.Catch` code: STAG or HARE
    for the hunters that took part in a catch, NOTHING for the others (a failed hunt, a
    prosocial share of another's catch) and everywhere after :meth:`reset`.

    Auto-reset: a game that ends in a step is reset within that step, so the returned ``obs``
    and ``action_mask`` of its row already belong to the next episode, while ``rewards``,
    ``terminated``, ``truncated`` and ``caught`` are those of the final step. For the games
    that ended (``episode_ended``, (B,) bool) the final observation is in ``final_obs``, the
    final global grid (as ``state()`` of the env) in ``final_grid`` and each player's episode
    return in ``final_returns``; rows of other games are stale.

    Departed players (caught something while their game goes on) have all-zero observations
    and may only STAY; their actions are ignored. The returned arrays are the engine's own
    buffers, overwritten by the next call: copy what you keep. With ``device`` set (e.g.
    ``"cuda"``), the outputs are torch tensors on that device (the attributes stay numpy); the
    rules still run on the CPU.
    """

    def __init__(
        self, num_envs: int, seed: int | None = None, device: Any = None, **config: Any
    ) -> None:
        if not validate.is_integer(num_envs) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.config = config_from(**config)
        self.num_envs = int(num_envs)
        self.device = device
        n = self.config.num_players
        shape = (self.num_envs, n, *observe.observation_shape(self.config))
        self.state = GameState.zeros(self.config, self.num_envs)
        self._rng = np.random.default_rng(validate.check_seed(seed))
        self.obs = np.zeros(shape, dtype=np.int8)
        self.action_mask = np.zeros((self.num_envs, n, NUM_ACTIONS), dtype=np.int8)
        self.rewards = np.zeros((self.num_envs, n), dtype=np.float32)
        self.terminated = np.zeros((self.num_envs, n), dtype=bool)
        self.truncated = np.zeros((self.num_envs, n), dtype=bool)
        self.caught = np.full((self.num_envs, n), CAUGHT_NOTHING, dtype=np.int8)
        self.episode_ended = np.zeros(self.num_envs, dtype=bool)
        self.final_obs = np.zeros(shape, dtype=np.int8)
        self.final_grid = np.zeros((self.num_envs, *shape[2:]), dtype=np.int8)
        self.returns = np.zeros((self.num_envs, n), dtype=np.float32)
        self.final_returns = np.zeros((self.num_envs, n), dtype=np.float32)
        self._actions = np.zeros((self.num_envs, n), dtype=np.int64)
        self._final_mask = np.zeros_like(self.action_mask)  # scratch: final masks are not kept
        self._previous = tuple(a.copy() for a in observe.tracked(self.state))  # before a step
        self._observed = False  # do obs/action_mask show the current state?

    def reset(self, seed: int | None = None) -> tuple[Any, Any]:
        """Start new episodes in every game; returns (obs, action_mask)."""
        if seed is not None:
            self._rng = np.random.default_rng(validate.check_seed(seed))
        rules.reset(self.config, self.state, self._rng)
        self.returns[:] = 0
        self.episode_ended[:] = False
        self.caught[:] = CAUGHT_NOTHING
        return self._outputs(self._observe())

    def step(self, actions: Any) -> tuple[Any, ...]:
        """Advance every game by one joint action (B, N); see the class docstring for auto-reset."""
        self._set_actions(actions)
        for before, now in zip(self._previous, observe.tracked(self.state)):
            np.copyto(before, now)
        rules.step(
            self.config,
            self.state,
            self._actions,
            inplace=True,
            out=(self.rewards, self.terminated, self.truncated, self.caught),
        )
        self.returns += self.rewards
        np.copyto(self.episode_ended, self.state.over)
        if self.episode_ended.any():
            ended = np.flatnonzero(self.episode_ended)
            observe.observe(
                self.state, zero_departed=True, out=(self.final_obs, self._final_mask), games=ended
            )
            observe.global_grid(self.state, out=self.final_grid, games=ended)
            self.final_returns[ended] = self.returns[ended]
            self.returns[ended] = 0
            rules.reset(self.config, self.state, self._rng, ended)
        if not self._observed:  # the state was replaced: observe it in full
            self._observe()
        else:  # write only what changed; restarted games in full
            observe.update_observations(self._previous, self.state, (self.obs, self.action_mask))
            if self.episode_ended.any():
                observe.observe(
                    self.state, zero_departed=True, out=(self.obs, self.action_mask), games=ended
                )
        return self._outputs(
            (self.obs, self.action_mask, self.rewards, self.terminated, self.truncated)
        )

    def observe(self) -> tuple[Any, Any]:
        """(obs, action_mask) of the current state, e.g. after :meth:`assign` or :meth:`set_state`."""
        return self._outputs(self._observe())

    def _observe(self) -> tuple[np.ndarray, np.ndarray]:
        self._observed = True
        return observe.observe(self.state, zero_departed=True, out=(self.obs, self.action_mask))

    def _set_actions(self, actions: Any) -> None:
        if hasattr(actions, "detach"):  # a torch tensor, maybe on a GPU
            actions = actions.detach().cpu().numpy()
        actions = np.asarray(actions)
        if actions.shape != self._actions.shape:
            raise ValueError(
                f"actions must have shape (num_envs, num_players) = {self._actions.shape}, "
                f"got {actions.shape}"
            )
        if not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(f"actions must be integers, got dtype {actions.dtype}")
        if actions.size and (actions.min() < 0 or actions.max() >= NUM_ACTIONS):
            raise ValueError(
                f"actions must be in Discrete({NUM_ACTIONS}), got values from "
                f"{actions.min()} to {actions.max()}"
            )
        np.copyto(self._actions, actions)

    def _outputs(self, arrays: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
        if self.device is None:
            return arrays
        import torch

        return tuple(torch.from_numpy(a).to(self.device) for a in arrays)

    # ------------------------------------------------------------------ planning access

    def select(self, indices: Any) -> GameState:
        """Gather games into an independent GameState (e.g. to branch them in a planner)."""
        return self.state.select(indices)

    def assign(self, indices: Any, games: GameState) -> None:
        """Scatter games into rows ``indices``; call :meth:`observe` for their new observations.

        ``games`` is checked in full (:func:`staghunt_env.validate.check_game_state`) first.
        """
        try:
            rows = np.arange(self.num_envs)[rules.as_batch_index(indices)]
        except IndexError as e:
            raise ValueError(
                f"assign: indices {indices!r} do not pick rows of {self.num_envs}: {e}"
            ) from None
        validate.check_game_state(games, self.config, what="assign: games")
        if rows.shape != (games.batch_size,):
            raise ValueError(
                f"assign: {rows.size} row(s) for {games.batch_size} game(s); give one row per game"
            )
        self.state.assign(rows, games)
        self._observed = False

    def get_state(self) -> dict[str, Any]:
        """A picklable snapshot of the whole batch, RNG and running returns included."""
        return {
            "config": self.config.to_dict(),
            "game": self.state.copy(),
            "returns": self.returns.copy(),
            "rng": copy.deepcopy(self._rng.bit_generator.state),
        }

    def set_state(self, snapshot: dict[str, Any]) -> None:
        """Restore a snapshot from :meth:`get_state`; ValueError if it does not fit this engine
        (:func:`staghunt_env.validate.batched_snapshot`), and then nothing changes."""
        game, returns, rng = validate.batched_snapshot(snapshot, self.config, self.num_envs)
        self.state, self._rng = game, rng
        np.copyto(self.returns, returns)
        self._observed = False
