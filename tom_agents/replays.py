"""Recorded episodes as GIFs a reader can follow in a talk.

The board comes from :mod:`staghunt_env.render`; here each frame gets a caption strip: the
step, and per hunter its colour, the agent playing it and its reward so far. Frames play at
:data:`FPS` frames per second (imageio's GIF writer takes the frame time in milliseconds).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from staghunt_env.render import HUNTERS

from .atomic import atomic_write_gif

FPS = 4
LINE = 18  # pixels per caption line
FONT_SIZE = 13
INK = (30, 30, 30)
PAPER = (255, 255, 255)


@dataclasses.dataclass
class Replay:
    """One recorded episode: the rendered board at the start and after each step, and each
    hunter's return so far at each of those frames."""

    frames: list[np.ndarray] = dataclasses.field(default_factory=list)
    returns: list[np.ndarray] = dataclasses.field(default_factory=list)

    def add(self, frame: np.ndarray, rewards: np.ndarray) -> None:
        """A frame and the rewards of the step that led to it (zeros for the first frame)."""
        previous = self.returns[-1] if self.returns else 0.0
        self.frames.append(frame)
        self.returns.append(previous + np.asarray(rewards, dtype=float))


def annotated(replay: Replay, names: Sequence[str]) -> list[np.ndarray]:
    """Each frame over a caption: "step t / T", then a line per hunter (colour, index, name,
    reward so far)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=FONT_SIZE)
    last = len(replay.frames) - 1
    out = []
    for t, (frame, returns) in enumerate(zip(replay.frames, replay.returns)):
        height, width = frame.shape[:2]
        image = Image.new("RGB", (width, height + LINE * (len(names) + 1) + 6), PAPER)
        image.paste(Image.fromarray(frame), (0, 0))
        draw = ImageDraw.Draw(image)
        y = height + 3
        draw.text((6, y), f"step {t} / {last}", fill=INK, font=font)
        for i, (name, reward) in enumerate(zip(names, returns)):
            y += LINE
            colour = HUNTERS[i % len(HUNTERS)]
            draw.ellipse((6, y + 2, 6 + LINE - 6, y + LINE - 4), fill=colour)
            draw.text((LINE + 4, y), f"{i}  {name}", fill=INK, font=font)
            draw.text((width - 6, y), f"{reward:g}", fill=INK, font=font, anchor="ra")
        out.append(np.asarray(image))
    return out


def write_replay(path: str | os.PathLike, replay: Replay, names: Sequence[str]) -> Path:
    """The replay as an annotated, looping GIF at ``path`` (written atomically)."""
    return atomic_write_gif(path, annotated(replay, names), 1000 / FPS)
