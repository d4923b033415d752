"""The Teams app icons, drawn in code and written as PNG without an imaging library.

Teams wants a 192x192 full-colour icon and a 32x32 outline icon that is white
on a transparent background (nothing but white and fully transparent pixels).
Both show a speech bubble with a tick: "can I post this?" answered.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

COLOR_SIZE = 192
OUTLINE_SIZE = 32
ACCENT = "#00607A"  # a dark teal that reads well behind white in light and dark themes


def color_icon(accent: str = ACCENT) -> bytes:
    """192x192 RGBA: a white bubble and an accent-coloured tick on an accent background."""
    size = COLOR_SIZE
    bubble = _coverage(size, _bubble_mask)
    tick = _coverage(size, _tick_mask)
    rgb = np.array(_hex_rgb(accent), dtype=np.float64)
    white = np.array([255.0, 255.0, 255.0])
    image = np.empty((size, size, 4), dtype=np.float64)
    image[..., :3] = rgb * (1 - bubble[..., None]) + white * bubble[..., None]
    image[..., :3] = image[..., :3] * (1 - tick[..., None]) + rgb * tick[..., None]
    image[..., 3] = 255.0
    return png(np.clip(np.rint(image), 0, 255).astype(np.uint8))


def outline_icon() -> bytes:
    """32x32 RGBA: the bubble's outline and the tick in white; everything else transparent."""
    size = OUTLINE_SIZE
    ring = _coverage(size, lambda x, y: _bubble_ring_mask(x, y, width=0.075))
    tick = _coverage(size, _tick_mask)
    solid = np.maximum(ring, tick) >= 0.5  # only fully white or fully transparent pixels
    image = np.zeros((size, size, 4), dtype=np.uint8)
    image[..., :3] = 255
    image[..., 3] = np.where(solid, 255, 0)
    return png(image)


def png(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as a PNG (8-bit RGBA, no interlace)."""
    height, width, channels = rgba.shape
    assert channels == 4 and rgba.dtype == np.uint8
    raw = b"".join(b"\x00" + rgba[row].tobytes() for row in range(height))  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


# -- shapes, in unit coordinates (0..1 across the icon) -------------------------------


def _coverage(size: int, mask: object, samples: int = 4) -> np.ndarray:
    """Fraction of each pixel a shape covers, by supersampling."""
    offsets = (np.arange(samples) + 0.5) / samples
    total = np.zeros((size, size))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    for dy in offsets:
        for dx in offsets:
            total += mask((xs + dx) / size, (ys + dy) / size)  # type: ignore[operator]
    return total / (samples * samples)


def _rounded_box_distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    cx, cy, half_w, half_h, radius = 0.5, 0.44, 0.36, 0.27, 0.12
    qx = np.abs(x - cx) - half_w + radius
    qy = np.abs(y - cy) - half_h + radius
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    inside = np.minimum(np.maximum(qx, qy), 0)
    return outside + inside - radius


def _tail_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # A triangle below the bubble's lower left: (0.28, 0.66), (0.46, 0.66), (0.27, 0.86).
    ax, ay, bx, by, cx, cy = 0.28, 0.66, 0.46, 0.66, 0.27, 0.86

    def side(px: float, py: float, qx: float, qy: float) -> np.ndarray:
        return (qx - px) * (y - py) - (qy - py) * (x - px)

    s1, s2, s3 = side(ax, ay, bx, by), side(bx, by, cx, cy), side(cx, cy, ax, ay)
    return ((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))


def _bubble_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return ((_rounded_box_distance(x, y) <= 0) | _tail_mask(x, y)).astype(np.float64)


def _bubble_ring_mask(x: np.ndarray, y: np.ndarray, width: float) -> np.ndarray:
    box = _rounded_box_distance(x, y)
    ring = (box <= 0) & (box >= -width)
    tail = _tail_mask(x, y) & (box > -width)
    return (ring | tail).astype(np.float64)


def _segment_distance(x: np.ndarray, y: np.ndarray, ax: float, ay: float, bx: float, by: float) -> np.ndarray:
    dx, dy = bx - ax, by - ay
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0, 1)
    return np.hypot(x - (ax + t * dx), y - (ay + t * dy))


def _tick_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    half_width = 0.045
    short = _segment_distance(x, y, 0.33, 0.45, 0.45, 0.56)
    long = _segment_distance(x, y, 0.45, 0.56, 0.68, 0.31)
    return (np.minimum(short, long) <= half_width).astype(np.float64)


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
