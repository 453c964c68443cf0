"""Minimal PNG writer and line plot with numpy + zlib (the project's python has no matplotlib)."""

import struct
import zlib

import numpy as np


def write_png(path, rgb):
    """rgb: uint8 [H, W, 3]."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def line_plot(path, series, w=640, h=360, logy=True, pad=30):
    """series: list of (xs, ys, (r, g, b)). Light grid: one line per decade (log y) and 10 x divisions."""
    img = np.full((h, w, 3), 255, np.uint8)
    xs_all = np.concatenate([np.asarray(s[0], float) for s in series])
    ys_all = np.concatenate([np.asarray(s[1], float) for s in series])
    f = np.log10 if logy else (lambda v: v)
    x0, x1 = xs_all.min(), xs_all.max()
    y0, y1 = f(ys_all.min()), f(ys_all.max())
    if logy:
        y0, y1 = np.floor(y0 * 10) / 10, np.ceil(y1 * 10) / 10
    px = lambda x: pad + (np.asarray(x, float) - x0) / max(x1 - x0, 1e-12) * (w - 2 * pad)
    py = lambda y: h - pad - (f(np.asarray(y, float)) - y0) / max(y1 - y0, 1e-12) * (h - 2 * pad)
    for k in range(11):
        img[pad:h - pad, int(pad + k * (w - 2 * pad) / 10)] = 225
    if logy:
        for d in range(int(np.floor(y0)), int(np.ceil(y1)) + 1):
            for m in (1, 2, 5):
                v = np.log10(m) + d
                if y0 <= v <= y1:
                    img[int(h - pad - (v - y0) / (y1 - y0) * (h - 2 * pad)), pad:w - pad] = 200 if m == 1 else 230
    img[h - pad, pad:w - pad] = 0
    img[pad:h - pad, pad] = 0
    for xs, ys, col in series:
        X, Y = px(xs), py(ys)
        for i in range(len(X) - 1):
            n = int(max(abs(X[i + 1] - X[i]), abs(Y[i + 1] - Y[i]), 1)) * 2
            for s in np.linspace(0, 1, n):
                xi = int(round(X[i] + s * (X[i + 1] - X[i])))
                yi = int(round(Y[i] + s * (Y[i + 1] - Y[i])))
                img[max(yi - 1, 0):yi + 1, max(xi - 1, 0):xi + 1] = col
    write_png(path, img)
    return dict(x_range=[float(x0), float(x1)], log10_y_range=[float(y0), float(y1)] if logy else None)
