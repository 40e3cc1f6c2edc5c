"""The memory check compares a run's estimate with the memory its tensors live in: host RAM on the
CPU, the GPU's free memory on CUDA (torch.cuda.mem_get_info, stood in for here)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

import core.memory

GIB = 2**30
SHAPE = (1, 1, 1024, 1024)


@pytest.fixture
def fake_cuda(monkeypatch):
    """A CUDA device with ``state['free']`` bytes free to the driver and 1 GiB cached by torch."""
    state = {"free": 2 * GIB, "reserved": 3 * GIB, "allocated": 2 * GIB, "asked": []}

    def mem_get_info(device=None):
        state["asked"].append(device)
        return state["free"], 80 * GIB

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", mem_get_info)
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: state["reserved"])
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: state["allocated"])
    return state


def _setup(device: str, module: str = "cnn", prior_buffers: int = 330):
    """What memory_shortfall reads of a TaskSetup, on ``device`` (no tensor needs to live there)."""
    x0 = SimpleNamespace(shape=SHAPE, device=torch.device(device))
    problem = SimpleNamespace(x0=x0, prior=SimpleNamespace(memory_buffers=prior_buffers))
    return SimpleNamespace(problem=problem, settings={"module": module})


def test_on_the_cpu_the_estimate_is_compared_with_host_ram(monkeypatch):
    needed = core.memory.estimate_run_bytes(SHAPE, 1, "cnn", 330)
    monkeypatch.setattr(core.memory, "available_bytes", lambda: int(needed / 0.9) + 1)
    assert core.memory.free_bytes(None) == core.memory.free_bytes("cpu") == int(needed / 0.9) + 1
    assert core.memory.fits(SHAPE, 1, "cnn", 330, "cpu")[0]
    assert core.memory.memory_shortfall(_setup("cpu"), 1) is None
    monkeypatch.setattr(core.memory, "available_bytes", lambda: needed // 2)
    shortfall = core.memory.memory_shortfall(_setup("cpu"), 1)
    assert shortfall is not None and shortfall.memory == "memory" and shortfall.suggested >= 2
    assert "of memory" in core.memory.shortfall_text(shortfall)


def test_on_cuda_the_device_free_memory_decides_not_host_ram(monkeypatch, fake_cuda):
    needed = core.memory.estimate_run_bytes(SHAPE, 1, "cnn", 330)  # about 1.8 GiB
    assert GIB < needed < 2 * GIB
    monkeypatch.setattr(core.memory, "available_bytes", lambda: 500 * GIB)  # plenty of RAM
    fake_cuda["free"] = needed // 4  # but little on the device, even with the 1 GiB cached
    free = core.memory.free_bytes(torch.device("cuda", 0))
    assert free == needed // 4 + GIB  # the driver's free memory and torch's unused cache
    shortfall = core.memory.memory_shortfall(_setup("cuda:0"), 1)
    assert shortfall is not None and shortfall.free == free
    assert shortfall.memory == "GPU memory (cuda:0)" and shortfall.suggested >= 2
    assert "GPU memory" in core.memory.shortfall_text(shortfall)
    assert fake_cuda["asked"] and torch.device(fake_cuda["asked"][-1]).type == "cuda"

    monkeypatch.setattr(core.memory, "available_bytes", lambda: 1000)  # little RAM on the host
    fake_cuda["free"] = 4 * GIB  # the device has room: the run fits
    assert core.memory.memory_shortfall(_setup("cuda"), 1) is None
    assert core.memory.memory_shortfall(_setup("cpu"), 1) is not None  # a CPU run would not


def test_an_unanswering_driver_falls_back_to_host_ram(monkeypatch, fake_cuda):
    def broken(device=None):
        raise RuntimeError("CUDA driver initialisation failed")

    monkeypatch.setattr(torch.cuda, "mem_get_info", broken)
    monkeypatch.setattr(core.memory, "available_bytes", lambda: 12345)
    assert core.memory.free_bytes("cuda") == 12345


def test_without_cuda_a_cuda_device_counts_as_host_memory(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(core.memory, "available_bytes", lambda: 777)
    assert core.memory.free_bytes("cuda:0") == 777
    assert core.memory.memory_name("cuda:0") == "memory"
