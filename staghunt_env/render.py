"""Pictures of a game: ``rgb_array`` (numpy only), ``ansi`` (the layout alphabet), ``human`` (pygame-ce)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .rules import GameState

CELL = 48
BACKGROUND = (238, 236, 226)
GRID_LINE = (205, 202, 190)
BLOCK = (64, 64, 72)
STAG = (133, 78, 28)
HARE = (96, 170, 70)
HUNTERS = (
    (31, 119, 180),
    (214, 39, 40),
    (148, 103, 189),
    (255, 127, 14),
    (23, 190, 207),
    (227, 119, 194),
    (188, 189, 34),
    (127, 127, 127),
    (44, 160, 44),
    (140, 86, 75),
)
# 3x5 bitmaps of the digits, row by row, for numbering the hunters.
_DIGITS = (
    "111101101101111", "010110010010111", "111001111100111", "111001111001111", "101101111001001",
    "111100111001111", "111100111101111", "111001010010010", "111101111101111", "111101111001111",
)  # fmt: skip


def check_render_mode(mode: str | None, allowed: list[str]) -> str | None:
    if mode is not None and mode not in allowed:
        raise ValueError(f"render_mode must be one of {allowed} or None, got {mode!r}")
    if mode == "human":
        _import_pygame()
    return mode


def _import_pygame() -> Any:
    try:
        import pygame
    except ImportError as e:
        raise ImportError(
            "render_mode='human' needs pygame-ce: pip install 'staghunt-tom[render]'"
        ) from e
    return pygame


def ansi(state: GameState, b: int = 0) -> str:
    """Game b in the layout alphabet (. # S H and player digits; the lowest digit wins a shared cell)."""
    grid = np.where(state.blocks[b], "#", ".").astype(object)
    for char, cells, alive in (
        ("H", state.hare_pos[b], state.hare_alive[b]),
        ("S", state.stag_pos[b], state.stag_alive[b]),
    ):
        for (r, c), live in zip(cells, alive):
            if live:
                grid[r, c] = char
    for i in reversed(range(state.pos.shape[1])):
        if state.alive[b, i]:
            grid[state.pos[b, i, 0], state.pos[b, i, 1]] = str(i % 10)
    return "\n".join("".join(row) for row in grid)


def rgb_array(state: GameState, b: int = 0) -> np.ndarray:
    """Game b as an (H*48, W*48, 3) uint8 picture.

    Blocks are dark squares, stags brown diamonds, hares small green circles; hunters are
    coloured discs numbered with their index: centred in their cell when alone in it, one
    quadrant each when they share it, so that every hunter (and the prey under them) stays
    visible.
    """
    h, w = state.blocks.shape[1:]
    img = np.empty((h * CELL, w * CELL, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    img[::CELL, :] = GRID_LINE
    img[:, ::CELL] = GRID_LINE
    yy, xx = np.mgrid[0:CELL, 0:CELL] - (CELL - 1) / 2
    diamond = np.abs(yy) + np.abs(xx) <= CELL * 0.42
    hare = yy**2 + xx**2 <= (CELL * 0.2) ** 2
    half = CELL // 2
    qy, qx = np.mgrid[0:half, 0:half] - (half - 1) / 2
    small_disc = qy**2 + qx**2 <= (CELL * 0.22) ** 2
    big_disc = yy**2 + xx**2 <= (CELL * 0.3) ** 2

    def paint(r: int, c: int, shape: np.ndarray, colour: tuple, dy: int = 0, dx: int = 0) -> None:
        y0, x0 = r * CELL + dy, c * CELL + dx
        patch = img[y0 : y0 + shape.shape[0], x0 : x0 + shape.shape[1]]
        patch[shape] = colour

    for r, c in zip(*np.nonzero(state.blocks[b])):
        img[r * CELL + 1 : (r + 1) * CELL, c * CELL + 1 : (c + 1) * CELL] = BLOCK
    for (r, c), live in zip(state.stag_pos[b], state.stag_alive[b]):
        if live:
            paint(r, c, diamond, STAG)
    for (r, c), live in zip(state.hare_pos[b], state.hare_alive[b]):
        if live:
            paint(r, c, hare, HARE)
    live_cells = [tuple(p) for p, live in zip(state.pos[b].tolist(), state.alive[b]) if live]
    for i, ((r, c), live) in enumerate(zip(state.pos[b], state.alive[b])):
        if not live:
            continue
        if live_cells.count((r, c)) == 1:  # alone: a big disc in the middle of the cell
            disc, dy, dx = big_disc, 0, 0
        else:
            disc, dy, dx = small_disc, (i % 4 // 2) * half, (i % 2) * half
        paint(r, c, disc, HUNTERS[i % len(HUNTERS)], dy, dx)
        digit = np.array([int(x) for x in _DIGITS[i % 10]], dtype=bool).reshape(5, 3)
        glyph = np.kron(digit, np.ones((2, 2), dtype=bool))  # 10 x 6
        middle = disc.shape[0] // 2
        paint(r, c, glyph, (255, 255, 255), dy + middle - 5, dx + middle - 3)
    return img


class Renderer:
    """Holds the pygame window for ``human`` mode; the other modes are pure functions."""

    def __init__(self, fps: int) -> None:
        self.fps = fps
        self._window = None
        self._clock = None

    def render(self, state: GameState, mode: str) -> Any:
        if mode == "ansi":
            return ansi(state)
        frame = rgb_array(state)
        if mode == "rgb_array":
            return frame
        self._show(frame)
        return None

    def _show(self, frame: np.ndarray) -> None:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        pygame = _import_pygame()
        if self._window is None:
            pygame.init()
            pygame.display.set_caption("Markov Stag Hunt")
            self._window = pygame.display.set_mode(frame.shape[1::-1])
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self._window.blit(pygame.surfarray.make_surface(frame.swapaxes(0, 1)), (0, 0))
        pygame.display.flip()
        self._clock.tick(self.fps)

    def close(self) -> None:
        if self._window is not None:
            pygame = _import_pygame()
            pygame.display.quit()
            self._window = None
