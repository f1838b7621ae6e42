"""Rendering: headless human mode, the missing-pygame message, positional modes, pixel colours."""

import sys

import numpy as np
import pytest

import staghunt_env
from staghunt_env import HUNT_HARE, STAY
from staghunt_env.render import BACKGROUND, BLOCK, CELL, HARE, HUNTERS, STAG
from staghunt_env.rules import DOWN, LEFT, RIGHT
from staghunt_env.spec import hare_channel, stag_channel, wall_channel

LAYOUT = [
    "0#S.",
    "1.H2",
    "#3.H",
]


def test_human_mode_renders_headless_and_returns_none(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    for factory in (staghunt_env.parallel_env, staghunt_env.env):
        env = factory(layout=LAYOUT, render_mode="human")
        env.reset(seed=0)  # renders a first frame
        surface = pygame.display.get_surface()
        assert surface is not None and surface.get_size() == (4 * CELL, 3 * CELL)
        assert env.render() is None
        # the window shows the frame that rgb_array would give
        shown = pygame.surfarray.array3d(surface).swapaxes(0, 1)
        np.testing.assert_array_equal(shown, env.render("rgb_array"))
        env.close()
        assert pygame.display.get_surface() is None


def test_human_mode_keeps_rendering_while_playing():
    env = staghunt_env.parallel_env(layout=LAYOUT, render_mode="human", max_cycles=4)
    env.reset(seed=0)
    while env.agents:
        env.step(dict.fromkeys(env.agents, STAY))
    assert env.render() is None
    env.close()
    env.close()  # closing twice is harmless


def test_missing_pygame_names_the_render_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygame", None)
    with pytest.raises(ImportError, match=r"staghunt-tom\[render\]"):
        staghunt_env.parallel_env(render_mode="human")
    with pytest.raises(ImportError, match=r"\[render\]"):
        staghunt_env.env(render_mode="human")
    # the other modes need no pygame
    env = staghunt_env.parallel_env(layout=LAYOUT, render_mode="rgb_array")
    env.reset(seed=0)
    assert env.render().shape == (3 * CELL, 4 * CELL, 3)


@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
def test_a_positional_mode_overrides_render_mode(render_mode):
    for factory in (staghunt_env.parallel_env, staghunt_env.raw_env, staghunt_env.env):
        env = factory(layout=LAYOUT, render_mode=render_mode)
        env.reset(seed=0)
        picture = env.render("rgb_array")
        assert isinstance(picture, np.ndarray)
        assert picture.shape == (3 * CELL, 4 * CELL, 3) and picture.dtype == np.uint8
        assert env.render("ansi") == "\n".join(LAYOUT)
    box = staghunt_env.box_observation(
        staghunt_env.parallel_env(layout=LAYOUT, render_mode=render_mode)
    )
    box.reset(seed=0)
    assert box.render("ansi") == "\n".join(LAYOUT)


def test_render_without_a_mode_warns_and_returns_none():
    env = staghunt_env.parallel_env(layout=LAYOUT)
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


def _cell_centre(picture, r, c):
    return tuple(int(v) for v in picture[r * CELL + CELL // 2, c * CELL + CELL // 2])


def _hunter_pixel(picture, i, r, c, alone=True, side=-1):
    """A pixel inside hunter i's disc, clear of its white digit: the disc is centred in the
    cell when the hunter is alone there, in a quadrant (by index) when the cell is shared."""
    if alone:
        return tuple(
            int(v) for v in picture[r * CELL + CELL // 2, c * CELL + CELL // 2 + side * 10]
        )
    dy, dx = (i % 4 // 2) * (CELL // 2), (i % 2) * (CELL // 2)
    return tuple(int(v) for v in picture[r * CELL + dy + CELL // 4, c * CELL + dx + 4])


def test_rgb_array_colours_hunters_prey_and_walls():
    env = staghunt_env.parallel_env(layout=LAYOUT, render_mode="rgb_array")
    env.reset(seed=0)
    picture = env.render()
    assert picture.shape == (3 * CELL, 4 * CELL, 3) and picture.dtype == np.uint8
    hunters = {0: (0, 0), 1: (1, 0), 2: (1, 3), 3: (2, 1)}
    for i, (r, c) in hunters.items():
        assert _hunter_pixel(picture, i, r, c) == HUNTERS[i], i
        assert _hunter_pixel(picture, i, r, c, side=+1) == HUNTERS[i], "centred in its cell"
    assert len({HUNTERS[i] for i in hunters}) == len(hunters), "each hunter its own colour"
    assert _cell_centre(picture, 0, 2) == STAG
    assert _cell_centre(picture, 1, 2) == HARE
    assert _cell_centre(picture, 2, 3) == HARE
    for r, c in ((0, 1), (2, 0)):
        assert _cell_centre(picture, r, c) == BLOCK
    for r, c in ((0, 3), (2, 2)):
        assert _cell_centre(picture, r, c) == BACKGROUND
    colours = {BACKGROUND, BLOCK, STAG, HARE, *(HUNTERS[i] for i in hunters)}
    assert len(colours) == 8, "all of them distinguishable"

    # hunter 2 steps down from (1, 3) onto the hare at (2, 3), then catches it
    env.step({"hunter_0": STAY, "hunter_1": STAY, "hunter_2": DOWN, "hunter_3": STAY})
    picture = env.render()
    assert _hunter_pixel(picture, 2, 2, 3) == HUNTERS[2]
    assert _hunter_pixel(picture, 2, 1, 3) == BACKGROUND
    env.step({"hunter_0": STAY, "hunter_1": STAY, "hunter_2": HUNT_HARE, "hunter_3": STAY})
    picture = env.render()
    assert _cell_centre(picture, 2, 3) == BACKGROUND, "the hare is gone"
    assert _hunter_pixel(picture, 2, 2, 3) == BACKGROUND, "and so is its hunter"
    assert _cell_centre(picture, 1, 2) == HARE, "the other hare is still there"


def test_hunters_sharing_a_cell_stay_visible():
    env = staghunt_env.parallel_env(layout=["0S1", "..H"], render_mode="rgb_array")
    env.reset(seed=0)
    env.step({"hunter_0": RIGHT, "hunter_1": LEFT})  # both onto the stag
    picture = env.render()
    assert _hunter_pixel(picture, 0, 0, 1, alone=False) == HUNTERS[0]
    assert _hunter_pixel(picture, 1, 0, 1, alone=False) == HUNTERS[1]
    assert env.render("ansi") == ".0.\n..H", "ansi shows the lowest index on a shared cell"


@pytest.mark.parametrize(
    "layout",
    [LAYOUT, ["0..#....", "..S#..H.", "1.......", "...##...", "H......2"], ["H01S"]],
)
def test_ansi_uses_the_layout_alphabet(layout):
    env = staghunt_env.parallel_env(layout=layout, render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert text == "\n".join(layout)
    assert set(text) <= set(".#SH0123456789\n")
    assert text.splitlines() == _alphabet_from_state(env)


def _alphabet_from_state(env):
    """The map rebuilt from the state grid: hunter digit, else # S H or '.'."""
    state, n = env.state(), env.config.num_players
    rows = []
    for r in range(state.shape[0]):
        row = ""
        for c in range(state.shape[1]):
            hunters = [str(j) for j in range(n) if state[r, c, j]]
            channels = (("#", wall_channel(n)), ("S", stag_channel(n)), ("H", hare_channel(n)))
            others = [ch for ch, k in channels if state[r, c, k]]
            row += (hunters + others + ["."])[0]
        rows.append(row)
    return rows
