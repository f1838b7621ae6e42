"""Beliefs over co-players' goals (SPEC section 2): pure functions over arrays.

Across episodes, discounted goal counts D (per co-player, per goal) give the prior:
``D <- lambda * D + onehot(realised goal)``, ``prior = D / sum(D)`` (uniform while D is zero).
Within an episode, Bayes: ``b'(g) ∝ b(g) * likelihood(g)``; when every goal's likelihood is
zero, the belief falls back to the prior. With wanderers (options, not SPEC's), Bayes runs
over three kinds of co-player, walkers to the stag or to a hare and wanderers, and a wanderer
plans as a hare hunter: it is no partner for the stag. The wanderer prior is either fixed or
learned across episodes, per co-player: ``W <- lambda * W + P(wanderer | the episode's
moves)`` if it caught nothing (one that caught something walked to its goal, unless its catch
is judged by its moves too, ``judge_catches``: then its goal counts only the rest, ``1 -
P(wanderer)``), ``E <- lambda * E + 1``, prior ``W / (E + 1)``: 0 before any episode, never 1.
An episode counts (in W and E) only if the co-player caught something or enough of its moves
were seen. With ``wanderer_join`` a wanderer plans as a stag walker with the probability that it
came to the stag when this player hunted it: ``J <- lambda * J + caught the stag``, ``O <-
lambda * O + 1`` after each episode in which this player hunted the stag (only lambda
otherwise), ``(J + join prior) / (O + 1)``.
"""

from __future__ import annotations

import numpy as np

from staghunt_env.spec import CAUGHT_STAG


def prior_from_counts(counts: np.ndarray) -> np.ndarray:
    """(..., G) discounted counts -> (..., G) prior; uniform where the counts are all zero."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(-1, keepdims=True)
    uniform = np.full_like(counts, 1.0 / counts.shape[-1])
    return np.where(total > 0, counts / np.where(total > 0, total, 1.0), uniform)


def update_counts(
    counts: np.ndarray,
    realised: np.ndarray,
    discount: float,
    soft: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Discount every count and add one for each co-player's realised goal (-1: none), or its
    ``weights`` (K,) share of one; ``soft`` (K, G) rows summing to one are added for the
    co-players that realised none."""
    counts = discount * np.asarray(counts, dtype=np.float64)
    realised = np.asarray(realised)
    rows = np.flatnonzero(realised >= 0)
    counts[rows, realised[rows]] += 1.0 if weights is None else np.asarray(weights)[rows]
    if soft is not None:
        counts[realised < 0] += np.asarray(soft, dtype=np.float64)[realised < 0]
    return counts


def bayes_update(belief: np.ndarray, likelihood: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """(K, G) beliefs times (K, G) likelihoods, renormalised; rows of zero likelihood -> prior."""
    posterior = np.asarray(belief, dtype=np.float64) * likelihood
    total = posterior.sum(-1, keepdims=True)
    return np.where(total > 0, posterior / np.where(total > 0, total, 1.0), prior)


def with_wanderers(prior: np.ndarray, wanderer_prior: float | np.ndarray) -> np.ndarray:
    """(K, 2) goal prior, P(wanderer) (one for all or (K,)) -> (K, 3) P(stag walker, hare
    walker, wanderer)."""
    wanders = np.broadcast_to(np.asarray(wanderer_prior, dtype=np.float64), (len(prior),))
    return np.concatenate([np.asarray(prior) * (1.0 - wanders[:, None]), wanders[:, None]], 1)


def update_wander_counts(
    counts: np.ndarray,
    episodes: np.ndarray,
    realised: np.ndarray,
    wandered: np.ndarray,
    judged: np.ndarray,
    discount: float,
    judged_catches: np.ndarray | None = None,
    weight: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Discount the (K,) wanderer counts W and episode counts E; each co-player whose episode is
    ``judged`` adds one episode to E and, if it caught nothing, its P(wanderer) to W; so do the
    co-players whose catch was judged by their moves before it (``judged_catches``, (K,) bool).
    ``weight``: the episode counts as that share of one."""
    judged = np.asarray(judged, dtype=bool)
    by_moves = np.asarray(realised) < 0
    if judged_catches is not None:
        by_moves = by_moves | np.asarray(judged_catches, dtype=bool)
    add = np.where(judged & by_moves, wandered, 0.0)
    return (
        discount * np.asarray(counts, float) + weight * add,
        discount * np.asarray(episodes) + weight * judged,
    )


def wanderer_prior_from_counts(counts: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    """(K,) P(wanderer) for the next episode: the discounted share of episodes wandered, with
    one more episode walked (0 before any; below 1, so that walking can still be seen)."""
    return np.asarray(counts, dtype=np.float64) / (np.asarray(episodes) + 1.0)


def plan_belief(kinds: np.ndarray, join: float | np.ndarray = 0.0) -> np.ndarray:
    """(K, 3) kinds -> (K, 2) the goal belief the search samples: a wanderer hunts no stag, or
    (``join``, one for all or (K,)) comes to it with that probability, as a stag walker would."""
    wander = kinds[:, 2]
    return np.stack([kinds[:, 0] + join * wander, kinds[:, 1] + (1.0 - join) * wander], axis=1)


def update_join_counts(
    joins: np.ndarray, offers: np.ndarray, realised: np.ndarray, offered: bool, discount: float
) -> tuple[np.ndarray, np.ndarray]:
    """Discount the (K,) join and offer counts; an episode in which this player hunted the stag
    adds one offer for every co-player and one join for each that caught the stag."""
    stag = (np.asarray(realised) == CAUGHT_STAG).astype(np.float64)
    return (
        discount * np.asarray(joins, dtype=np.float64) + (stag if offered else 0.0),
        discount * np.asarray(offers, dtype=np.float64) + float(offered),
    )


def join_rate_from_counts(joins: np.ndarray, offers: np.ndarray, prior: float) -> np.ndarray:
    """(K,) P(a co-player comes to the stag this player hunts): the discounted share of its
    stag hunts a co-player joined, with one more hunt joined with probability ``prior``."""
    return (np.asarray(joins, dtype=np.float64) + prior) / (np.asarray(offers) + 1.0)
