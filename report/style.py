"""One colour and marker per algorithm, the same in every plot: the style registry.

Every plot asks :func:`style` for an algorithm spec's look, so eGLB is the same blue with the same
marker in the ratios, the sweep, the windows of a year and the frontier. The colours are the
Okabe-Ito palette (readable with colour-vision deficiencies) and a few extra hues; the marker also
tells algorithms apart in grey print.

* each classical algorithm, RHC, AFHC and each learned kind (``bc:...``, ``ppo:...``, ``sb3:ppo:...``)
  has a fixed colour and marker; eGLB-Off, the hindsight oracle, is black with a star;
* ``robust(SPEC, ...)`` takes SPEC's colour and marker, with a dashed line and a hollow marker;
* several specs of one kind in a process (``bc:runs/a`` and ``bc:runs/b``, RHC with two windows) get
  the kind's colour in different shades and line styles, in the order they are first drawn: within a
  report (one process) a spec keeps its look across all plots. A classical name (``eglb``,
  ``glb-cost``, ...) always has its own colour.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.colors import to_hex, to_rgb

#: kind -> (colour, marker, display name). Kinds: the classical names, rhc, afhc, the training algorithms.
KINDS = {
    "eglb-off": ("#000000", "*", "eGLB-Off"),
    "eglb": ("#0072B2", "o", "eGLB"),
    "glb-cost": ("#E69F00", "s", "GLB-Cost"),
    "glb-carbon": ("#8C564B", "^", "GLB-Carbon"),
    "glb-water": ("#56B4E9", "v", "GLB-Water"),
    "glb-dist": ("#7F7F7F", "D", "GLB-Dist"),
    "rhc": ("#009E73", "P", "RHC"),
    "afhc": ("#BCBD22", "X", "AFHC"),
    "bc": ("#D55E00", "<", "bc"),
    "ppo": ("#CC79A7", ">", "PPO"),
    "recurrent-ppo": ("#9467BD", "H", "recurrent PPO"),
    "a2c": ("#17BECF", "h", "A2C"),
    "sac": ("#8B0000", "p", "SAC"),
    "td3": ("#2F4F4F", "d", "TD3"),
}
#: Any other spec (py:MODULE:FUNCTION, an unknown name): shades of grey with its own markers.
OTHER = ("#595959", "8", None)
LINESTYLES = ("-", "--", "-.", ":")
ORACLE_NOTE = "hindsight oracle"


@dataclass(frozen=True)
class Style:
    """How one algorithm is drawn.

    Attributes:
        color: hex colour. marker: matplotlib marker. linestyle: line style. hollow: hollow markers
        (robust variants). label: the legend text.
    """

    color: str
    marker: str
    linestyle: str
    hollow: bool
    label: str

    def line(self) -> dict:
        """Keyword arguments of ``Axes.plot`` / ``errorbar``."""
        return {
            "color": self.color,
            "marker": self.marker,
            "linestyle": self.linestyle,
            "markerfacecolor": "white" if self.hollow else self.color,
            "markeredgecolor": self.color,
            "label": self.label,
        }

    def bar(self) -> dict:
        """Keyword arguments of ``Axes.bar``: the colour, hatched for robust variants."""
        return {"color": self.color, "hatch": "//" if self.hollow else None, "edgecolor": "white" if self.hollow else None}


def kind_of(spec: str) -> tuple[str | None, bool]:
    """(the style kind of ``spec``, whether it is a robust(...) variant)."""
    spec = spec.strip()
    if spec.startswith("robust(") and spec.endswith(")"):
        inner = spec[len("robust(") :].split(",", 1)[0].strip()
        return kind_of(inner)[0], True
    if spec in KINDS:
        return spec, False
    head = spec.split("(", 1)[0].split(":", 1)[0].strip()
    if head == "sb3":
        head = spec.split(":")[1] if spec.count(":") >= 2 else head
    return (head if head in KINDS else None), False


def display_name(spec: str) -> str:
    """The legend text of a spec: the classical names as published (eGLB-Off marked as the oracle), other specs as typed."""
    if spec == "eglb-off":
        return f"eGLB-Off ({ORACLE_NOTE})"
    if spec in KINDS:
        return KINDS[spec][2]
    return spec


def _shade(color: str, variant: int) -> str:
    """The colour of the n-th spec of a kind: the base, then alternately lighter and darker."""
    if variant == 0:
        return color
    step = 0.28 * ((variant + 1) // 2)
    target = (1.0, 1.0, 1.0) if variant % 2 else (0.0, 0.0, 0.0)
    mix = min(step, 0.7)
    return to_hex(tuple(c + (t - c) * mix for c, t in zip(to_rgb(color), target)))


_ASSIGNED: dict[str, Style] = {}


def style(spec: str) -> Style:
    """The style of ``spec`` (see the module docstring); the same spec gets the same style every time."""
    if spec in _ASSIGNED:
        return _ASSIGNED[spec]
    kind, robust = kind_of(spec)
    color, marker, _ = KINDS.get(kind, OTHER) if kind else OTHER
    # A classical name is always its kind's own colour, whatever the process drew before; other specs
    # of a kind take shades in the order they are first drawn.
    variant = (
        0
        if spec.strip() in KINDS
        else sum(1 for o in _ASSIGNED if o.strip() not in (spec.strip(), *KINDS) and kind_of(o) == (kind, robust))
    )
    found = Style(
        color=_shade(color, variant),
        marker=marker,
        linestyle=LINESTYLES[(variant + (1 if robust else 0)) % len(LINESTYLES)],
        hollow=robust,
        label=display_name(spec),
    )
    _ASSIGNED[spec] = found
    return found
