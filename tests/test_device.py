"""The CUDA code path's logic, tested on the CPU: device selection and what the store records as the device."""

import torch

from modscale_lib import networks
from modscale_lib.store import _files as storage  # device_name, which the store records


def test_default_device_is_cuda_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert networks.default_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert networks.default_device() == torch.device("cpu")


def test_the_store_records_the_gpu_by_name(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "NVIDIA H200")
    assert storage.device_name() == "GPU (NVIDIA H200)"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert storage.device_name().startswith("CPU (")


def test_ensembles_keep_float32_on_every_device():
    # Inputs from numpy (float64) are cast to the model's dtype, so a CUDA run computes in float32 as the CPU does.
    model = networks.MLPEnsemble(2, 3, 4, depth=1, seeds=[0, 1])
    assert all(p.dtype == torch.float32 for p in model.parameters())
    out = model(torch.zeros(5, 3, dtype=torch.float32))
    assert out.dtype == torch.float32 and out.shape == (2, 5)
