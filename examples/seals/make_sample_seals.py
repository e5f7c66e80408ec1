"""Draw the sample seal images used by joint-notice.yaml.

They are plainly marked 样章 / SAMPLE: test images, not the seal of any organ.
Run once with the fonts installed (docgen fonts install); the PNGs are committed.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from docgen.fonts import load_fontset

SIZE = 600
RED = (230, 0, 18, 255)


def star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.382
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=RED)


def seal(label: str, path: Path) -> None:
    font_path = str(load_fontset().face("heiti").path)
    image = Image.new("RGBA", (SIZE, SIZE), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((12, 12, SIZE - 12, SIZE - 12), outline=RED, width=20)
    star(draw, SIZE / 2, SIZE / 2 - 30, 90)
    big = ImageFont.truetype(font_path, 92)
    small = ImageFont.truetype(font_path, 60)
    draw.text((SIZE / 2, 120), label, font=small, fill=RED, anchor="mm")
    draw.text((SIZE / 2, 400), "样章", font=big, fill=RED, anchor="mm")
    draw.text((SIZE / 2, 490), "SAMPLE", font=small, fill=RED, anchor="mm")
    image.save(path, optimize=True)


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    seal("示例一", here / "sample-seal-1.png")
    seal("示例二", here / "sample-seal-2.png")
