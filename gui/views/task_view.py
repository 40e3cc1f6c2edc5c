"""How a task's problem is shown: panel titles, the MRI k-space mask, and the picture a low-light
iterate stands for.

Most tasks iterate on the picture itself. Low-light enhancement iterates on the illumination map
t; ``problem.info["render"]`` turns t into the enhanced picture a user wants. The image panels
show that picture (rendered for the displayed iterate only, cached per iterate) or, on request,
t itself.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from core import TaskSetup

from ..display import to_display_array
from ..state.module_choices import is_module_file, module_label

Renderer = Callable[[np.ndarray], np.ndarray]
RENDER_CACHE_ENTRIES = 32  # rendered iterates kept (a 256² colour picture is 0.75 MB)
MODULE_STEP = "module step u<sup>k</sup>"  # the proposal u^k = A(x^k) when the module is not known
SUPERSCRIPTS = dict(
    zip(
        "0123456789+−-=()abdeghijklmnoprstuvwxyzβγδφχ",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᵈᵉᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵝᵞᵟᵠᵡ",
        strict=True,
    )
)
_SUP = re.compile(r"<sup>(.*?)</sup>")
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class TaskView:
    """What the image panels show for one problem, beyond its arrays."""

    observation_title: str = "observation y"
    truth_title: str = "ground truth"
    variable: str = "x"  # the iterate's symbol
    variable_title: str = ""  # what the iterate is, when it is not the picture ("illumination")
    mask: np.ndarray | None = None  # MRI: the DC-centred k-space mask
    mask_title: str = ""
    render: Renderer | None = None  # display array of an iterate → the picture it stands for
    picture_title: str = ""
    picture_truth: np.ndarray | None = None  # what the rendered picture is compared with
    picture_truth_title: str = ""
    picture_error_title: str = "error |picture − truth|"
    proposal_title: str = MODULE_STEP  # u^k by what the module is: "tv step u<sup>k</sup>" …


def plain_title(title: str) -> str:
    """A rich-text title as plain text (combo boxes): ``t<sup>γ</sup>`` → ``tᵞ``, ``x<sup>k+1</sup>``
    → ``xᵏ⁺¹`` (``^(…)`` for what Unicode has no superscript of)."""

    def superscript(match: re.Match) -> str:
        text = match.group(1)
        if all(char in SUPERSCRIPTS for char in text):
            return "".join(SUPERSCRIPTS[char] for char in text)
        return f"^{text}" if len(text) == 1 else f"^({text})"

    return html.unescape(_TAG.sub("", _SUP.sub(superscript, title)))


def module_step_title(task: str | None, name: str | None) -> str:
    """The proposal u^k = A(x^k) titled by what the module is: ``closed-form step u<sup>k</sup>``
    (low-light's ``none``), ``tv step u<sup>k</sup>``, ``net step u<sup>k</sup>`` (a file net.pt)."""
    if not name:
        return MODULE_STEP
    if is_module_file(name):
        what = f"{Path(name).stem} step"
    else:
        label = module_label(task, name) if task else name
        inner = label.partition("(")[2].rstrip(")").strip()
        what = inner or ("data step" if name == "none" else f"{name} step")
    return f"{html.escape(what)} u<sup>k</sup>"


def as_display(value: object) -> np.ndarray | None:
    """A tensor (1, C, H, W) / (H, W) or array as a float32 (H, W) or (H, W, C) array."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        if value.dim() == 4:
            return to_display_array(value)
        value = value.detach().to("cpu", torch.float32).numpy()
    return np.array(value, dtype=np.float32, order="C", copy=True)


def mask_title(info: dict, settings: dict) -> str:
    """``k-space mask — radial, 20.1 % sampled`` (a file mask by its file name)."""
    facts = info.get("mask_info") or {}
    pattern = facts.get("pattern") or str(settings.get("mask", "")).partition(":")[0]
    if pattern == "file":
        pattern = Path(str(facts.get("file") or settings.get("mask", "file"))).name
    rate = info.get("sampling_rate")
    sampled = f", {100 * float(rate):.1f} % sampled" if rate is not None else ""
    return f"k-space mask — {pattern or 'custom'}{sampled}"


def display_renderer(render: Callable, device: torch.device) -> Renderer:
    """``render`` (tensor t → picture tensor) for display arrays: (H, W[, C]) → (H, W[, C])."""

    def on_arrays(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        t = t[None, None] if t.dim() == 2 else t.permute(2, 0, 1)[None]
        with torch.inference_mode():
            return to_display_array(render(t.to(device)))

    return on_arrays


def task_view(setup: TaskSetup) -> TaskView:
    """The view of ``setup``'s problem: MRI shows its mask and the zero-filled image; a task that
    renders its iterate (low-light) shows the rendered picture."""
    view = _task_view(setup)
    return replace(view, proposal_title=module_step_title(task_name(setup), module_name(setup)))


def task_name(setup: TaskSetup) -> str | None:
    """The task of ``setup`` (``deblur``, ``lowlight`` …)."""
    return setup.settings.get("task")


def module_name(setup: TaskSetup) -> str | None:
    """The module of ``setup`` as chosen (a registry name, a task's own, or a file path)."""
    name = setup.settings.get("module")
    return str(name) if name else None


def _task_view(setup: TaskSetup) -> TaskView:
    problem, task = setup.problem, setup.settings.get("task")
    info = problem.info or {}
    if task == "mri" and info.get("mask") is not None:
        return TaskView(
            observation_title="zero-filled Tᵀy",
            mask=as_display(info["mask"]),
            mask_title=mask_title(info, setup.settings),
        )
    render = info.get("render")
    if callable(render):
        lowlight = task == "lowlight"
        return TaskView(
            observation_title="dark observation y" if lowlight else "observation y",
            truth_title="true illumination t" if lowlight else "ground truth",
            variable="t" if lowlight else "x",
            variable_title="illumination" if lowlight else "iterate",
            render=display_renderer(render, problem.device),
            picture_title="enhanced (y / t<sup>γ</sup>)" if lowlight else "rendered",
            picture_truth=as_display(info.get("clean")),
            picture_truth_title="clean picture R" if lowlight else "ground truth",
            picture_error_title="error |enhanced − R|" if lowlight else "error |picture − truth|",
        )
    return TaskView()


class RenderCache:
    """Rendered pictures by key (variant, iterate index); the newest few are kept."""

    def __init__(self, render: Renderer, entries: int = RENDER_CACHE_ENTRIES) -> None:
        self.render = render
        self.entries = int(entries)
        self._pictures: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self.renders = 0  # how many times ``render`` ran (for tests and the curious)

    def get(self, key: Hashable, x: np.ndarray) -> np.ndarray:
        """The picture of iterate ``x`` known as ``key`` (rendered on the first request)."""
        picture = self._pictures.get(key)
        if picture is None:
            picture = self.render(x)
            self.renders += 1
            self._pictures[key] = picture
            while len(self._pictures) > self.entries:
                self._pictures.popitem(last=False)
        else:
            self._pictures.move_to_end(key)
        return picture

    def clear(self) -> None:
        """Forget every picture (a new run or a new problem)."""
        self._pictures.clear()
