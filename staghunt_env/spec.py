"""The encoding of the game, in one place: actions, goals, catches, channels, agent names.

Everything that turns a number into a meaning (action 5 is HUNT_STAG, channel N + 1 holds the
stags, "hunter_2" is player 2) is defined here and nowhere else. The enums are for people and
Python code; the plain ``int`` constants below them are for the numba kernels, which read
module-level integers as compile-time constants but cannot use enum members.

The three encodings of "which prey" line up on purpose: ``Goal.STAG == Catch.STAG`` and the
hunt action of a goal is ``HUNT_STAG + goal``, so a catch's value is the goal it realises.
"""

from __future__ import annotations

import re
from enum import IntEnum

import numpy as np


class Action(IntEnum):
    """The Discrete(7) action space of every hunter (SPEC section 1)."""

    UP = 0
    DOWN = 1
    LEFT = 2
    RIGHT = 3
    STAY = 4
    HUNT_STAG = 5
    HUNT_HARE = 6


class Goal(IntEnum):
    """The prey a hunter is after (what beliefs and opponent models predict)."""

    STAG = 0
    HARE = 1


class Catch(IntEnum):
    """What a hunter caught in one step; a catch's value is the goal it realises."""

    NOTHING = -1
    STAG = 0
    HARE = 1


NUM_ACTIONS = len(Action)
NUM_GOALS = len(Goal)
ACTION_NAMES = tuple(a.name for a in Action)

# Plain ints for the numba kernels (and for code that indexes arrays by action).
UP, DOWN, LEFT, RIGHT = int(Action.UP), int(Action.DOWN), int(Action.LEFT), int(Action.RIGHT)
STAY, HUNT_STAG, HUNT_HARE = int(Action.STAY), int(Action.HUNT_STAG), int(Action.HUNT_HARE)
GOAL_STAG, GOAL_HARE = int(Goal.STAG), int(Goal.HARE)
CAUGHT_NOTHING, CAUGHT_STAG, CAUGHT_HARE = int(Catch.NOTHING), int(Catch.STAG), int(Catch.HARE)

# The moves are the actions 0..NUM_MOVES-1; MOVES[a] is the (row, col) step of move a.
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))
NUM_MOVES = len(MOVES)
MOVE_DR = np.array([dr for dr, _ in MOVES], dtype=np.int64)  # the same table, for the kernels
MOVE_DC = np.array([dc for _, dc in MOVES], dtype=np.int64)
MOVE_DR.flags.writeable = False
MOVE_DC.flags.writeable = False

# Channels after the N hunter channels, as offsets from N (the kernels add them to N).
WALL_OFFSET, STAG_OFFSET, HARE_OFFSET = 0, 1, 2
NUM_OBJECT_CHANNELS = 3

assert tuple(range(NUM_MOVES)) == (UP, DOWN, LEFT, RIGHT), "moves come first"
assert HUNT_HARE - HUNT_STAG == GOAL_HARE - GOAL_STAG == HARE_OFFSET - STAG_OFFSET == 1
assert [int(c) for c in Catch if c is not Catch.NOTHING] == [int(g) for g in Goal]


def hunt_action(goal: int) -> Action:
    """The action that hunts ``goal``'s prey (ValueError if ``goal`` is not a Goal)."""
    return Action(HUNT_STAG + Goal(goal))


def goal_of_hunt(action: int) -> Goal:
    """The goal an action hunts for (ValueError for the moves and STAY)."""
    if Action(action) not in (Action.HUNT_STAG, Action.HUNT_HARE):
        raise ValueError(f"{Action(action).name} hunts nothing; only HUNT_STAG and HUNT_HARE do")
    return Goal(action - HUNT_STAG)


# ------------------------------------------------------------------------------ channels
# Channel k < N of agent i's observation holds player (i + k) mod N (observer first); the
# global state grid holds player k in channel k. Then walls, stags, hares.


def wall_channel(num_players: int) -> int:
    return num_players + WALL_OFFSET


def stag_channel(num_players: int) -> int:
    return num_players + STAG_OFFSET


def hare_channel(num_players: int) -> int:
    return num_players + HARE_OFFSET


def prey_channel(goal: int, num_players: int) -> int:
    """The channel of ``goal``'s prey (ValueError if ``goal`` is not a Goal)."""
    return num_players + STAG_OFFSET + (Goal(goal) - Goal.STAG)


def num_channels(num_players: int) -> int:
    """Channels of an observation: one per hunter, then walls, stags, hares."""
    return num_players + NUM_OBJECT_CHANNELS


# ------------------------------------------------------------------------------ agent names

AGENT_PREFIX = "hunter_"
_AGENT_NAME = re.compile(r"hunter_(0|[1-9][0-9]*)")


def agent_name(index: int) -> str:
    """The PettingZoo name of player ``index``: ``hunter_<index>``."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
        raise ValueError(f"a player index is a non-negative integer, got {index!r}")
    return f"{AGENT_PREFIX}{int(index)}"


def agent_index(name: str, num_players: int | None = None) -> int:
    """Player index of an agent name; ValueError naming ``name`` if it is not one of ours.

    With ``num_players`` the index must also be below it.
    """
    match = _AGENT_NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(f"{name!r} is not an agent name (expected {AGENT_PREFIX}<index>)")
    index = int(match.group(1))
    if num_players is not None and index >= num_players:
        raise ValueError(
            f"{name!r} is not an agent of a {num_players}-player game "
            f"({agent_name(0)}..{agent_name(num_players - 1)})"
        )
    return index
