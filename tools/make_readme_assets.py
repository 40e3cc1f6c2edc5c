"""Make the README's pictures with the project's own commands.

1. Crop a 128×128 piece of the bundled sample (house.png) into a temporary PNG.
2. Write a session for it: deblurring (levin:4, 1 % noise), variants fima, naive and pg.
3. Run the explorer on it, offscreen:
   ``fima-explorer --session S --run --quit-after N --export DIR``.
4. Copy DIR/plots.png and DIR/iterates.gif into docs/images/ (the movie is checked: at most 40
   frames, under 1.5 MB).
5. With ``--screenshot``: a picture of the window on the whole bundled sample, same variants,
   ``fima-explorer --session S2 --run --quit-after N --screenshot docs/images/screenshot.png``
   (offscreen; the README's own screenshot may come from a real display instead).

    .venv/bin/python tools/make_readme_assets.py [--iters 40] [--module cnn] [--out docs/images]
                                                 [--screenshot]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import build_task  # noqa: E402
from core.io import load_image, resources_dir, save_image  # noqa: E402
from core.session import Session, save_session  # noqa: E402

CROP = 128
MAX_FRAMES = 40
MAX_GIF_BYTES = 1_500_000
VARIANTS = ["fima", "naive", "pg"]


def crop_sample(path: Path, size: int = CROP) -> Path:
    """A size×size crop from the middle of the bundled house.png, saved at ``path``."""
    image = load_image(resources_dir() / "samples" / "house.png", grayscale=True)
    h, w = image.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    save_image(path, image[..., top : top + size, left : left + size])
    return path


def explorer_command() -> list[str]:
    """``fima-explorer`` from the virtual environment (or ``python -m gui``, the same program)."""
    script = Path(sys.executable).with_name("fima-explorer")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gui"]


def run_explorer(session: Path, iters: int, folder: Path, *extra: str) -> bool:
    """``fima-explorer --session S --run --quit-after N …`` offscreen, settings in ``folder``."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(folder)}
    command = [*explorer_command(), "--session", str(session), "--run"]
    command += ["--quit-after", str(iters), *extra]
    print("fima-explorer", " ".join(command[command.index("--session") :]), flush=True)
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stderr.strip(), file=sys.stderr)
    return result.returncode == 0


def write_session(path: Path, image: Path | None, iters: int, module: str | None) -> Path:
    """A deblurring session (levin:4, 1 % noise) of ``image`` (None: the bundled sample)."""
    options = {"kernel": "levin:4", "noise": 0.01}
    if module:
        options["module"] = module
    setup = build_task("deblur", str(image) if image else None, **options)
    save_session(path, Session(setup.settings, setup.parameters, {}, VARIANTS, iters))
    return path


def main(argv: list[str] | None = None) -> int:
    """Generate docs/images/plots.png and iterates.gif (and screenshot.png if asked)."""
    parser = argparse.ArgumentParser(description="Make the README's plot and iterate movie")
    parser.add_argument("--iters", type=int, default=MAX_FRAMES)
    parser.add_argument("--module", default=None, help="default: the bundled CNN when present")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--screenshot", action="store_true", help="also docs/images/screenshot.png")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        image = crop_sample(folder / "house_crop.png")
        session = write_session(folder / "readme.toml", image, args.iters, args.module)
        export = folder / "export"
        if not run_explorer(session, args.iters, folder, "--export", str(export)):
            return 1
        gif = export / "iterates.gif"
        import imageio.v3 as iio

        frames = iio.imread(gif, index=None).shape[0]
        size = gif.stat().st_size
        if frames > MAX_FRAMES or size >= MAX_GIF_BYTES:
            print(f"iterates.gif too big: {frames} frames, {size} bytes", file=sys.stderr)
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        for name in ("plots.png", "iterates.gif"):
            shutil.copyfile(export / name, args.out / name)
            print(f"wrote {args.out / name} ({(args.out / name).stat().st_size} bytes)")
        if not args.screenshot:
            return 0
        whole = write_session(folder / "window.toml", None, args.iters, args.module)
        shot = args.out / "screenshot.png"
        fresh = folder / "fresh-settings"  # not the layout the export run remembered on close
        if not run_explorer(whole, args.iters, fresh, "--screenshot", str(shot)):
            return 1
        print(f"wrote {shot} ({shot.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
