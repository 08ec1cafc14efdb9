"""Progressive growing's schedule: where training stands after a number of images.

With L levels there are 2L - 1 stages: stable level 0, fade into level 1, stable level 1, ...,
stable level L - 1. The paper gives every stage the same number of images (GANSynth: 7 levels,
13 stages x 800k = 10.4M images); a schedule may instead give each stage its own length, e.g. to
spend more of a short budget at the levels where pitch is visible. During a fade stage alpha
rises linearly from 0 to 1; stable stages have alpha 1. After the last stage training stays at
the top level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class Phase:
    stage: int     # 0 .. 2L - 2
    level: int     # resolution level the networks run at
    alpha: float   # fade-in weight of `level`'s newest block (1.0 when stable)

    @property
    def fading(self) -> bool:
        return self.alpha < 1.0


def stages(levels: int) -> int:
    return 2 * levels - 1


def stage_lengths(levels: int, images_per_stage: int | Sequence[int]) -> list[int]:
    """Images in each of the 2L - 1 stages: one length for all, or one per stage."""
    if isinstance(images_per_stage, int):
        lengths = [images_per_stage] * stages(levels)
    else:
        lengths = [int(n) for n in images_per_stage]
        if len(lengths) != stages(levels):
            raise ValueError(f"{levels} levels have {stages(levels)} stages, got {len(lengths)} stage lengths")
    if any(n <= 0 for n in lengths):
        raise ValueError("every stage needs a positive number of images")
    return lengths


def total_images(levels: int, images_per_stage: int | Sequence[int]) -> int:
    """Images in the whole schedule."""
    return sum(stage_lengths(levels, images_per_stage))


def phase_at(images: int, *, levels: int, images_per_stage: int | Sequence[int]) -> Phase:
    """The phase after `images` training images (counted before the batch that uses it)."""
    lengths = stage_lengths(levels, images_per_stage)
    ends = list(accumulate(lengths))
    stage = next((i for i, end in enumerate(ends) if images < end), len(lengths) - 1)
    level = (stage + 1) // 2
    if stage % 2 == 1:
        start = ends[stage] - lengths[stage]
        alpha = min(1.0, (images - start) / lengths[stage])
    else:
        alpha = 1.0
    return Phase(stage, level, alpha)


def describe_short(phase: Phase) -> str:
    """'L2 fade 0.42' (or 'L2 stable') for the progress bar."""
    return f"L{phase.level} " + (f"fade {phase.alpha:.2f}" if phase.fading else "stable")


def describe(phase: Phase, levels: int) -> str:
    """'stage 3/13 level 2 fade 0.42' for progress bars and logs."""
    kind = f"fade {phase.alpha:.2f}" if phase.fading else "stable"
    return f"stage {phase.stage + 1}/{stages(levels)} level {phase.level} {kind}"
