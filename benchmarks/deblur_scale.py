"""Deblurring at the sizes people have: torchann against scikit-image from 0.25 to 12.6 MP.

Scenario per size: a mosaic of scikit-image's colour photographs (astronaut, coffee, rocket,
immunohistochemistry, chelsea, hubble_deep_field, each 512 x 512) in [0, 1], grey (luma) or
RGB, blurred with a reflect boundary by a Gaussian (sigma 2, 15 x 15) or a motion blur
(length 9 at 30 degrees, which is not symmetric, so torchann takes its conjugate gradient
x-step), plus Gaussian noise with sigma 0.01.

Competitors, each run in its own process so that its peak RSS is its own
(``VmHWM`` of the child, from /proc; the table also gives a child that only imports and
loads the input). Each child first solves a 64 x 64 corner once, so that lazy imports are not
timed:

- torchann ``deblur_image``, TV, ``weight="auto"`` (no ground truth), float32, joint colour;
- scikit-image ``restoration.wiener``, per channel, ``balance`` tuned on a grid against the
  ground truth on a central 512 x 512 crop, then timed once on the whole image;
- scikit-image ``restoration.richardson_lucy``, per channel, ``num_iter`` tuned likewise.

Run: ``python benchmarks/deblur_scale.py`` (every size, about an hour on 2 cores), or a part:
``--sizes 0.25,1 --kinds grey --blurs gaussian``. Prints markdown tables and the fitted
exponent of time against pixels (``t ~ n^k``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = {"0.25": (512, 512), "1": (1024, 1024), "4": (2048, 2048), "12.6": (3072, 4096)}
BLURS = {"gaussian": "blur:gaussian,sigma=2", "motion": "blur:motion,length=9,angle=30"}
NOISE = 0.01
BALANCES = np.logspace(-3, 0, 10)
RL_ITERS = (3, 5, 10, 20, 30)
TILE = 512
_PHOTOS = ("astronaut", "coffee", "rocket", "immunohistochemistry", "chelsea",
           "hubble_deep_field")


def mosaic(shape, colour):
    """A photograph-like test image: 512 x 512 photographs side by side."""
    from skimage import color, data, transform

    tiles = [transform.resize(getattr(data, name)() / 255.0, (TILE, TILE), anti_aliasing=True)
             for name in _PHOTOS]
    h, w = shape
    out = np.empty((h, w, 3))
    k = 0
    for r in range(0, h, TILE):
        for c in range(0, w, TILE):
            tile = tiles[k % len(tiles)]
            out[r:r + TILE, c:c + TILE] = tile[:min(TILE, h - r), :min(TILE, w - c)]
            k += 1
    return out if colour else color.rgb2gray(out)


def blurred(original, spec, seed=0):
    """``A original + noise`` with a reflect boundary (scipy.ndimage, float32 output)."""
    from scipy import ndimage

    from torchann import deblur

    kind, params = _kind(spec)
    kernel = deblur.make_kernel(kind, **params).numpy()
    cube = np.atleast_3d(original)
    out = np.empty(cube.shape, dtype=np.float32)
    for c in range(cube.shape[2]):
        out[..., c] = ndimage.convolve(cube[..., c], kernel, mode="reflect")
    out = out.reshape(original.shape)
    out += (NOISE * np.random.default_rng(seed).standard_normal(original.shape)).astype(
        np.float32)
    return out


def _kind(spec):
    from torchann import deblur

    kind, params = deblur.parse_blur_spec(spec)
    return kind, params


def _per_channel(fn, image):
    cube = np.atleast_3d(image)
    return np.stack([fn(cube[..., c]) for c in range(cube.shape[2])], -1).reshape(image.shape)


def solve(method, image, spec, param):
    """One solve; returns the restored image (float32)."""
    from skimage import restoration

    from torchann import deblur

    kind, params = _kind(spec)
    kernel = deblur.make_kernel(kind, **params).numpy()
    image = np.asarray(image)
    if method == "torchann":
        return deblur.deblur_image(image, kernel, "reflect", "tv", "auto").x.numpy()
    if method == "wiener":
        return _per_channel(lambda c: restoration.wiener(c, kernel, param, clip=False)
                            .astype(np.float32), image)
    if method == "richardson_lucy":
        # Richardson-Lucy assumes non-negative data: the noise's negative pixels are clipped
        return _per_channel(lambda c: restoration.richardson_lucy(
            np.clip(c, 0, None), kernel, num_iter=int(param), filter_epsilon=1e-6)
            .astype(np.float32), image)
    if method == "load":
        return image
    raise ValueError(method)


def child(args):
    """Run one solve in this process and print its seconds and peak RSS as JSON."""
    import skimage.restoration  # noqa: F401  (imports are not timed)
    import torch

    import torchann.deblur  # noqa: F401

    torch.set_num_threads(args.threads)
    image = np.load(args.input)
    solve(args.child, image[:64, :64], args.spec, args.param)  # warm-up: lazy imports, plans
    start = time.perf_counter()
    out = solve(args.child, image, args.spec, args.param)
    seconds = time.perf_counter() - start
    np.save(args.output, np.asarray(out, dtype=np.float32))
    print(json.dumps({"seconds": seconds, "rss_mb": peak_rss_mb()}))


def peak_rss_mb():
    """This process's peak resident memory in MB.

    ``VmHWM`` from /proc: ``getrusage``'s ``ru_maxrss`` keeps the parent's peak across
    ``exec`` on Linux, so in a child it would report the parent's images too.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def run_child(method, path, spec, param, threads, folder):
    out = Path(folder) / "out.npy"
    cmd = [sys.executable, __file__, "--child", method, "--input", str(path), "--output",
           str(out), "--spec", spec, "--param", str(param), "--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{done.stderr[-2000:]}")
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    return np.load(out), stats


def psnr(original, image):
    from torchann.restore import quality

    return quality(original, np.asarray(image, np.float64), data_range=1, ssim=False)["psnr"]


def tune(original, broken, spec, method, grid):
    """Best parameter on a central 512 x 512 crop (against the ground truth)."""
    h, w = original.shape[:2]
    r, c = (h - 512) // 2, (w - 512) // 2
    o, b = original[r:r + 512, c:c + 512], broken[r:r + 512, c:c + 512]
    scores = [(psnr(o, solve(method, b, spec, p)), p) for p in grid]
    return max(scores)[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="megapixels, comma-separated")
    parser.add_argument("--kinds", default="grey,rgb")
    parser.add_argument("--blurs", default=",".join(BLURS))
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads per solve (default 1: on a shared 2-core machine "
                        "two threads made elementwise ops 4x slower)")
    parser.add_argument("--child")
    parser.add_argument("--input")
    parser.add_argument("--output")
    parser.add_argument("--spec")
    parser.add_argument("--param", type=float, default=0.0)
    args = parser.parse_args()
    if args.child:
        return child(args)

    import torch

    print(f"Deblurring at scale: photograph mosaic, reflect boundary, noise sigma {NOISE}; "
          f"torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} CPUs; "
          "one run each; RSS is each process's peak.\n")
    print("| MP | image | blur | method | parameter | seconds | peak RSS (MB) | PSNR (dB) "
          "| time / Wiener | dB over Wiener |")
    print("|---:|---|---|---|---|---:|---:|---:|---:|---:|")
    series = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.kinds.split(","):
            for blur in args.blurs.split(","):
                spec = BLURS[blur]
                for size in args.sizes.split(","):
                    shape = SIZES[size]
                    original = mosaic(shape, kind == "rgb")
                    broken = blurred(original, spec)
                    path = Path(folder) / "input.npy"
                    np.save(path, broken)
                    balance = tune(original, broken, spec, "wiener", BALANCES)
                    iters = tune(original, broken, spec, "richardson_lucy", RL_ITERS)
                    rows = {}
                    for method, param in (("load", 0), ("wiener", balance),
                                          ("richardson_lucy", iters), ("torchann", 0)):
                        image, stats = run_child(method, path, spec, param, args.threads, folder)
                        rows[method] = (psnr(original, image), stats, param)
                    wiener_s, wiener_db = rows["wiener"][1]["seconds"], rows["wiener"][0]
                    for method, (db, stats, param) in rows.items():
                        label = {"load": "input (import + load only)",
                                 "wiener": "skimage wiener, tuned",
                                 "richardson_lucy": "skimage richardson_lucy, tuned",
                                 "torchann": "torchann TV, auto"}[method]
                        pname = {"wiener": f"balance={param:.2g}",
                                 "richardson_lucy": f"num_iter={int(param)}"}.get(method, "")
                        ratio = stats["seconds"] / wiener_s
                        print(f"| {size} | {kind} | {blur} | {label} | {pname} | "
                              f"{stats['seconds']:.2f} | {stats['rss_mb']:.0f} | {db:.2f} | "
                              f"{ratio:.1f} | {db - wiener_db:+.2f} |", flush=True)
                    series.setdefault((kind, blur), []).append(
                        (shape[0] * shape[1], rows["torchann"][1]["seconds"]))
    print("\nScaling of torchann's time with pixels, t ~ n^k (least squares on log-log):\n")
    print("| image | blur | sizes | exponent k |")
    print("|---|---|---:|---:|")
    for (kind, blur), points in series.items():
        if len(points) >= 2:
            n, t = np.log([p[0] for p in points]), np.log([p[1] for p in points])
            k = np.polyfit(n, t, 1)[0]
            print(f"| {kind} | {blur} | {len(points)} | {k:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
