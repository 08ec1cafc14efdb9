"""Data-parallel training under `torchrun`: process-group set-up, gradient averaging, agreement.

Gradients are averaged by hand (`average_gradients`) rather than through DistributedDataParallel:
GAN steps use different sub-networks per resolution and a double backward for the gradient
penalty, neither of which DDP's bucketed hooks support well. The result is the same update: every
rank ends each step with the mean gradient of the global batch and bit-identical weights.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from audiogen.errors import AudiogenError


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (rank 0 writes all outputs)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


SINGLE = World()


def world_from_env() -> World:
    """RANK / WORLD_SIZE / LOCAL_RANK as torchrun sets them; a single process without them."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise AudiogenError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (as torchrun sets them)") from None
    return World(rank, size, local) if size > 1 else SINGLE


def init_world(device_spec: str = "auto") -> World:
    """Join the process group when started by torchrun (NCCL on CUDA, else gloo).

    On CUDA each process takes the GPU of its local rank, so `--device auto` / `cuda` resolve to it.
    """
    world = world_from_env()
    if not world.distributed or dist.is_initialized():
        return world
    use_cuda = device_spec.startswith("cuda") or (device_spec == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(world.local_rank % max(torch.cuda.device_count(), 1))
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return world


def shutdown(*, together: bool = False) -> None:
    """Leave the process group. `together` (after a run that ended well on every rank): wait for
    every rank first, so no rank tears its connections down while another (rank 0, exporting)
    still holds them; gloo aborted a rank that left early ("terminate called without an active
    exception") in one of four full test runs on this 2-core machine."""
    if dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()


def broadcast_module(module: torch.nn.Module, world: World) -> None:
    """Copy rank 0's parameters and buffers to every rank."""
    if world.distributed:
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def average_gradients(params, world: World) -> None:
    """Replace each parameter's .grad by its mean over the ranks (one flat all-reduce).

    Parameters without a gradient (a sub-network not in use this step) are left alone; every rank
    runs the same sub-networks, so the flat layouts match.
    """
    if not world.distributed:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world.size
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def rank0_decides(flag: bool, world: World, device: torch.device) -> bool:
    """Rank 0's value of `flag` on every rank (e.g. "stop now"), so all ranks leave a loop together."""
    if not world.distributed:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    dist.broadcast(t, src=0)
    return bool(t.item())


def ranks_agree(module: torch.nn.Module, world: World, device: torch.device) -> bool:
    """True when every rank holds bit-identical parameters (compared by a float64 checksum pair)."""
    if not world.distributed:
        return True
    with torch.no_grad():
        flat = torch.cat([p.detach().reshape(-1).double() for p in module.parameters()])
        mine = torch.stack([flat.sum(), (flat * torch.arange(1, flat.numel() + 1, device=flat.device,
                                                              dtype=torch.float64).remainder(97)).sum()]).to(device)
    gathered = [torch.zeros_like(mine) for _ in range(world.size)]
    dist.all_gather(gathered, mine)
    return all(torch.equal(g, gathered[0]) for g in gathered)
