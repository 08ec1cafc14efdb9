"""Latent-space tools shared by the generative families: spherical interpolation (slerp), and
directions that move a measured attribute (`fit_directions`), stored in a model file's metadata
and applied by name (`steer`)."""

from __future__ import annotations

import torch

from audiogen.errors import AudiogenError


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between a and b (..., Z) at t in [0, 1]; linear when they are parallel.

    slerp(a, b, 0) == a and slerp(a, b, 1) == b.
    """
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device)
    cos = (a * b).sum(-1, keepdim=True) / (a.norm(dim=-1, keepdim=True) * b.norm(dim=-1, keepdim=True)).clamp(min=1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    sin = torch.sin(omega)
    linear = sin.abs() < 1e-6
    wa = torch.where(linear, 1 - t, torch.sin((1 - t) * omega) / torch.where(linear, 1.0, sin))
    wb = torch.where(linear, t, torch.sin(t * omega) / torch.where(linear, 1.0, sin))
    return wa * a + wb * b


def interpolation_path(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """`steps` codes (steps, Z) from a to b (both included) by slerp at evenly spaced t."""
    if steps < 2:
        raise AudiogenError(f"--steps {steps}: an interpolation needs at least 2 steps (the two ends)")
    return torch.stack([slerp(a, b, float(t)) for t in torch.linspace(0.0, 1.0, steps, dtype=torch.float64)])


def fit_directions(latents, values: dict, groups=None, *, ridge: float = 1e-3) -> dict[str, dict]:
    """Latent directions of measured attributes, with the effect of `groups` (e.g. pitch) removed.

    latents (N, Z); values {name: (N,) floats, NaN where not measured}; groups (N,) labels (each
    gets its own intercept, so an attribute's dependence on pitch is not put into the direction).
    Per name: a ridge least-squares fit value ~ w . z + intercept[group]; the direction is w / |w|
    (unit length) and `per_unit` = |w|, the attribute's change per unit step along it, in its own
    units; `r2` is the share of the attribute's variance (within groups) the latent explains.
    -> {name: {"direction": (Z,) list, "per_unit", "r2", "rows"}}; AudiogenError with too few rows.
    """
    import numpy as np

    z = np.asarray(latents.detach().cpu() if hasattr(latents, "detach") else latents, np.float64)
    labels = np.zeros(len(z), int) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
    onehot = np.eye(labels.max() + 1)[labels]
    out: dict[str, dict] = {}
    for name, column in values.items():
        y = np.asarray(column, np.float64)
        rows = np.isfinite(y)
        if rows.sum() < z.shape[1] + onehot.shape[1] + 2:
            raise AudiogenError(f"{name}: measured on {int(rows.sum())} samples, too few to fit a "
                                f"{z.shape[1]}-value direction")
        x = np.concatenate([z[rows], onehot[rows]], axis=1)
        penalty = ridge * np.diag(np.r_[np.ones(z.shape[1]), np.zeros(onehot.shape[1])])
        coef = np.linalg.solve(x.T @ x + penalty * len(x), x.T @ y[rows])
        w = coef[: z.shape[1]]
        residual = y[rows] - x @ coef
        centred = y[rows] - onehot[rows] @ (np.linalg.pinv(onehot[rows]) @ y[rows])  # around each group's mean
        r2 = 1.0 - float(residual @ residual) / max(float(centred @ centred), 1e-12)
        norm = float(np.linalg.norm(w))
        out[name] = {"direction": (w / max(norm, 1e-12)).tolist(), "per_unit": norm, "r2": r2,
                     "rows": int(rows.sum())}
    return out


def without_group_means(fitted: dict, latents, groups) -> dict:
    """`fit_directions` results with each direction made orthogonal to the span of the groups'
    mean latents (minus the overall mean), so that a step along it does not move a latent towards
    another group (a kick towards a hi-hat); `per_unit` becomes the fitted change per unit step
    along the new direction, and "kept" the cosine between the old direction and the new."""
    import numpy as np

    z = np.asarray(latents.detach().cpu() if hasattr(latents, "detach") else latents, np.float64)
    labels = np.asarray(groups)
    means = np.stack([z[labels == g].mean(0) for g in np.unique(labels)]) - z.mean(0)
    u, singular, _ = np.linalg.svd(means.T, full_matrices=False)
    basis = u[:, singular > singular.max(initial=0.0) * 1e-9]  # G centred means span at most G - 1 dimensions
    out = {}
    for name, entry in fitted.items():
        d = np.asarray(entry["direction"], np.float64)
        e = d - basis @ (basis.T @ d)
        e /= max(float(np.linalg.norm(e)), 1e-12)
        out[name] = {**entry, "direction": e.tolist(), "per_unit": entry["per_unit"] * float(d @ e),
                     "kept": round(float(d @ e), 3)}
    return out


def parse_direction_amounts(settings, directions: dict | None, *, where: str = "this model") -> list[tuple[str, float]]:
    """`NAME=AMOUNT` strings (`--direction brightness=2`) -> [(name, amount)], checked against the
    shipped `directions` of a model file ({name: {"direction", "shipped", ...}}). AudiogenError
    naming --direction for a malformed setting, a non-finite amount, an unknown or unshipped name,
    or a model without directions."""
    import math

    amounts = []
    for setting in settings or []:
        name, sep, value = str(setting).partition("=")
        name = name.strip()
        try:
            amount = float(value)
        except ValueError:
            amount = None
        if not sep or not name or amount is None:
            raise AudiogenError(f"--direction {setting!r}: expected NAME=AMOUNT, e.g. brightness=2")
        if not math.isfinite(amount):
            raise AudiogenError(f"--direction {setting!r}: the amount must be a finite number")
        shipped = {k: v for k, v in (directions or {}).items() if v.get("shipped", True)}
        if not directions:
            raise AudiogenError(f"--direction {name}: {where} has no latent directions (fit them with "
                                "`audiogen directions ... --fit`)")
        if name not in shipped:
            why = ""
            if name in directions:
                check = directions[name].get("check") or {}
                figures = ", ".join(f"{k.replace('_share', '')} {v:.0%}" for k, v in check.items()
                                    if k in ("moved_share", "pitch_kept_share") and isinstance(v, (int, float)))
                why = f" (measured, but it did not pass its check{': ' + figures if figures else ''})"
            raise AudiogenError(f"--direction {name}: not a direction of {where}{why}; choose from "
                                f"{', '.join(sorted(shipped)) or 'none'}")
        amounts.append((name, amount))
    return amounts


def apply_directions(z: torch.Tensor, directions: dict, amounts: list[tuple[str, float]]) -> torch.Tensor:
    """z (..., Z) moved `amount` unit steps along each named direction."""
    for name, amount in amounts:
        z = z + amount * torch.as_tensor(directions[name]["direction"], dtype=z.dtype, device=z.device)
    return z


def stored_directions(bundle) -> dict:
    """The directions a loaded model file (any family's bundle with `.extra`) carries ({} when
    none): {name: {"direction", "per_unit", "unit", "r2", "check": {...}, "shipped"}}."""
    return dict(bundle.extra.get("directions") or {})


def steer(bundle, z: torch.Tensor, settings) -> torch.Tensor:
    """z (..., latent) moved along the model's stored directions by `settings` (["brightness=2",
    ...]: `--direction`); AudiogenError for an unknown name, a bad amount or a model without them."""
    if not settings:
        return z
    directions = stored_directions(bundle)
    return apply_directions(z, directions, parse_direction_amounts(settings, directions, where=str(bundle.path)))


def save_directions(model_path, out, *, kind: str, fitted: dict, checked: dict) -> dict:
    """Write `out`: the model file `model_path` (of `kind`) carrying the `fitted` directions with
    their `checked` figures ({name: {..., "shipped"}}); weights, config and record unchanged.
    Returns the stored {name: entry}."""
    from audiogen.runtime.modelfile import rewrite_model

    stored = {name: {**entry, "check": {k: v for k, v in checked[name].items() if k != "shipped"},
                     "shipped": bool(checked[name]["shipped"])} for name, entry in fitted.items()}
    rewrite_model(model_path, out, kind=kind, extra={"directions": stored})
    return stored
