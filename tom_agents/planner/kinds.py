"""Wandering co-players (the options ``wanderer_prior`` and ``wanderer_counts``, not SPEC's).

Beside walking to the stag or to a hare, a co-player may wander: take any legal action alike.
Bayes runs over the three kinds. The search plays a wanderer as a hare hunter, since it is no
partner for the stag, or (``wanderer_model="random"``) as what it is believed to be: a tree
samples it beside the goals (:data:`WANDER`) and moves it at random (:func:`act_probs`). The
wanderer prior is fixed (``wanderer_prior``) or learned per co-player from the episodes before
(``wanderer_counts``): the discounted share of episodes in which it caught nothing and its moves
were a wanderer's, over one more episode walked (:func:`~tom_agents.beliefs.update_wander_counts`);
an episode counts once the co-player caught something or :data:`MOVES_TO_JUDGE` of its moves were
seen. With ``judge_catches`` an episode with a catch is judged by the moves before the catch too,
and the catch counts as a goal only as much as they were a walker's. With ``wanderer_join`` a
wanderer plans as a stag walker at the rate it came to the stag in the episodes in which this
player hunted it (:func:`~tom_agents.beliefs.join_rate_from_counts`), not as a hare hunter. One
seat's :class:`Kinds` holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from staghunt_env.spec import NUM_GOALS

from .. import beliefs

KINDS = NUM_GOALS + 1  # stag walker, hare walker, wanderer
WANDER = NUM_GOALS  # the wanderer's index beside the goals (a tree may sample it)
# a co-player that caught nothing is judged wanderer or walker only after this many of its moves
# were seen: with fewer, its P(wanderer) is mostly the evidence's uniform start
MOVES_TO_JUDGE = 3


def act_probs(probs: np.ndarray, masks: np.ndarray, goals: np.ndarray) -> np.ndarray:
    """(M, K, 7) each co-player's action probabilities under what its tree sampled: ``probs``
    (M, K, G, 7) the opponent model's per goal, ``goals`` (M, K) a goal, or :data:`WANDER`: any
    of its legal actions (``masks`` (M, K, 7)) alike."""
    m, k = goals.shape
    goal = np.minimum(goals, probs.shape[2] - 1)  # a goal-free model has one "goal"
    chosen = probs[np.arange(m)[:, None], np.arange(k)[None, :], goal]
    wander = goals == WANDER
    if wander.any():
        legal = masks[wander].astype(chosen.dtype)
        chosen[wander] = legal / legal.sum(-1, keepdims=True)
    return chosen


class Kinds:
    """One seat's P(stag walker, hare walker, wanderer) per co-player within an episode, and the
    counts that learn the wanderer prior across episodes."""

    def __init__(
        self,
        num_coplayers: int,
        fixed_prior: float,
        learn: bool,
        episode_prior: bool,
        judge_catches: bool = False,
        join_prior: float = 0.0,
    ):
        self.fixed_prior = fixed_prior
        self.learn = learn
        self.judge_catches = judge_catches and learn  # catches judged by the moves before them
        self.episode_prior = episode_prior  # False: nothing learned is used, as for the goals
        self.on = fixed_prior > 0 or learn  # False: SPEC's two goals, this class idle
        self.join_prior = join_prior if learn else 0.0  # 0: a wanderer hunts no stag
        self.wander_counts = np.zeros(num_coplayers)  # discounted episodes wandered
        self.judged_counts = np.zeros(num_coplayers)  # discounted episodes judged
        self.join_counts = np.zeros(num_coplayers)  # discounted stag hunts of ours it joined
        self.offer_counts = np.zeros(num_coplayers)  # discounted episodes we hunted the stag
        self.uniform = np.full((num_coplayers, KINDS), 1.0 / KINDS)

    def start(self, goal_prior: np.ndarray) -> None:
        """A new episode whose goal prior is ``goal_prior`` (K, 2)."""
        self.start_kind = self.prior(goal_prior)  # kept: the counts change when it closes
        self.kind = self.start_kind.copy()
        self.join = self.join_prior
        if self.join_prior and self.episode_prior:
            self.join = beliefs.join_rate_from_counts(
                self.join_counts, self.offer_counts, self.join_prior
            )
        self.evidence = self.uniform.copy()  # the posterior a uniform start would reach
        self.moves_seen = np.zeros(len(goal_prior), dtype=np.int64)

    def prior(self, goal_prior: np.ndarray) -> np.ndarray:
        """(K, 3) the kinds an episode with this (K, 2) goal prior starts from."""
        wanders = self.fixed_prior
        if self.learn:
            learned = beliefs.wanderer_prior_from_counts(self.wander_counts, self.judged_counts)
            wanders = learned if self.episode_prior else np.zeros_like(learned)
        return beliefs.with_wanderers(goal_prior, wanders)

    @property
    def plan_belief(self) -> np.ndarray:
        """(K, 2) the goal belief the search samples."""
        return self.plan(self.kind)

    def plan(self, kind: np.ndarray) -> np.ndarray:
        """(K, 2) the goal belief the search samples for these (K, 3) kinds: a wanderer comes to
        the stag with this episode's join rate (``wanderer_join``; 0 without it)."""
        return beliefs.plan_belief(kind, self.join)

    def update(
        self, likelihood: np.ndarray, explains: np.ndarray, masks: np.ndarray, observed: np.ndarray
    ) -> None:
        """Bayes with the walkers' (K, 2) ``likelihood`` and a wanderer's: any legal action
        alike (``explains``: which actions explain each co-player's move; ``masks``: legal)."""
        masks = masks.astype(np.float64)
        wander = (masks * explains).sum(-1) / masks.sum(-1)
        wander[~observed] = 1.0
        both = np.concatenate([likelihood, wander[:, None]], axis=1)
        self.kind = beliefs.bayes_update(self.kind, both, self.start_kind)
        if self.learn:  # only the counts read it
            self.evidence = beliefs.bayes_update(self.evidence, both, self.uniform)
            self.moves_seen += observed

    def realise(self, k: int, goal: int) -> None:
        """Co-player ``k`` caught the prey of ``goal``: a walker to it, for sure."""
        self.kind[k] = np.eye(KINDS)[goal]

    def judged_catches(self, realised: np.ndarray) -> np.ndarray:
        """(K,) co-players whose catch is judged by their moves before it (``judge_catches``, once
        :data:`MOVES_TO_JUDGE` of them were seen)."""
        seen = self.moves_seen >= MOVES_TO_JUDGE
        return self.judge_catches & (np.asarray(realised) >= 0) & seen

    def catch_weights(self, realised: np.ndarray) -> np.ndarray:
        """(K,) how much each co-player's catch counts as a walk to its goal: one, or for a
        judged catch its P(walker) by the moves before it."""
        return np.where(self.judged_catches(realised), 1.0 - self.evidence[:, 2], 1.0)

    def close(
        self, realised: np.ndarray, discount: float, weight: float = 1.0, offered: bool = False
    ) -> None:
        """The episode's end (``realised``: each co-player's goal, -1: none) joins the counts,
        as ``weight`` of an episode; with ``wanderer_join``, ``offered`` (this player hunted
        the stag) says whether it tested who comes to the stag."""
        if self.join_prior:
            self.join_counts, self.offer_counts = beliefs.update_join_counts(
                self.join_counts, self.offer_counts, realised, offered, discount
            )
        if self.learn:
            judged = (realised >= 0) | (self.moves_seen >= MOVES_TO_JUDGE)
            self.wander_counts, self.judged_counts = beliefs.update_wander_counts(
                self.wander_counts, self.judged_counts, realised, self.evidence[:, 2], judged,
                discount, self.judged_catches(realised), weight,
            )  # fmt: skip

    # ------------------------------------------------------------------ exact resume

    _COUNTS = ("wander_counts", "judged_counts", "join_counts", "offer_counts")

    def counts(self) -> dict[str, np.ndarray]:
        """What carries from episode to episode (copies)."""
        return {name: getattr(self, name).copy() for name in self._COUNTS}

    def load_counts(self, data: Mapping[str, Any]) -> None:
        """:meth:`counts` back; data saved before ``wanderer_counts`` (or ``wanderer_join``) has
        none: zeros."""
        for name in self._COUNTS:
            setattr(self, name, np.array(data.get(name, np.zeros(len(self.uniform))), float))

    _STATE = (("kind", "kind"), ("kind_evidence", "evidence"), ("moves_seen", "moves_seen"))

    def state_dict(self) -> dict[str, np.ndarray]:
        """The episode's state (copies), under the names a seat's state has for it."""
        return {name: getattr(self, attribute).copy() for name, attribute in self._STATE}

    def load_state_dict(self, state: Mapping[str, Any], goal_prior: np.ndarray) -> None:
        """The episode's state back; a seat saved before the wanderer options has none: the
        episode's start."""
        self.start(goal_prior)
        for name, attribute in self._STATE:
            if name in state:
                setattr(self, attribute, np.array(state[name]))
