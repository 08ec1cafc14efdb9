"""Progressive growing's schedule: where training stands after a number of images.

With L levels there are 2L - 1 stages of `images_per_stage` images each: stable level 0, fade
into level 1, stable level 1, ..., stable level L - 1 (GANSynth: 7 levels, 13 stages x 800k =
10.4M images). During a fade stage alpha rises linearly from 0 to 1; stable stages have alpha 1.
After the last stage training stays at the top level.
"""

from __future__ import annotations

from dataclasses import dataclass


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


def total_images(levels: int, images_per_stage: int) -> int:
    """Images in the whole schedule."""
    return stages(levels) * images_per_stage


def phase_at(images: int, *, levels: int, images_per_stage: int) -> Phase:
    """The phase after `images` training images (counted before the batch that uses it)."""
    if images_per_stage <= 0:
        raise ValueError("images_per_stage must be positive")
    stage = min(images // images_per_stage, stages(levels) - 1)
    level = (stage + 1) // 2
    if stage % 2 == 1:
        alpha = min(1.0, (images - stage * images_per_stage) / images_per_stage)
    else:
        alpha = 1.0
    return Phase(stage, level, alpha)


def describe(phase: Phase, levels: int) -> str:
    """'stage 3/13 level 2 fade 0.42' for progress bars and logs."""
    kind = f"fade {phase.alpha:.2f}" if phase.fading else "stable"
    return f"stage {phase.stage + 1}/{stages(levels)} level {phase.level} {kind}"
