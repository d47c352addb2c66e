"""Pictures of the environment's hour: the ``rgb_array`` frames of GLBEnv (matplotlib, no display).

One frame shows, per region: the load served this hour against its capacity, and the cumulative
weighted water and carbon footprints against the worst region's (the level the equity penalty
charges). The figure is built once per environment and only its bars change between frames.
"""

from __future__ import annotations

import numpy as np

#: Frame size in pixels (width, height) at the figure's dpi.
FRAME_INCHES, FRAME_DPI = (8.0, 4.5), 80


class FrameRenderer:
    """Draws frames for one set of regions. ``frame(...)`` returns uint8 [H, W, 3]."""

    def __init__(self, regions: tuple[str, ...]):
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.regions = regions
        self.figure = Figure(figsize=FRAME_INCHES, dpi=FRAME_DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        axes = self.figure.subplots(1, 3, sharey=True)
        x = np.arange(len(regions))
        self.load = axes[0].barh(x, np.zeros(len(regions)), color="tab:blue")
        self.capacity = axes[0].barh(x, np.zeros(len(regions)), color="none", edgecolor="black", linewidth=0.8)
        self.footprints = [
            axes[k].barh(x, np.zeros(len(regions)), color=color) for k, color in ((1, "tab:cyan"), (2, "tab:gray"))
        ]
        self.worst = [axes[k].axvline(0.0, color="tab:red", linewidth=1.2) for k in (1, 2)]
        for ax, title in zip(axes, ("load / capacity (MW)", "water footprint (USD)", "carbon footprint (USD)")):
            ax.set_title(title, fontsize=9)
            ax.tick_params(labelsize=7)
        axes[0].set_yticks(x, [name[:12] for name in regions])
        axes[0].invert_yaxis()
        self.axes = axes
        self.title = self.figure.suptitle("", fontsize=9)
        self.figure.tight_layout(rect=(0, 0, 1, 0.93))

    def frame(self, title: str, energy: np.ndarray, capacity: np.ndarray, weighted_footprint: np.ndarray) -> np.ndarray:
        """The picture for region energies [N] MW, capacities [N] MW and weighted footprints [2, N] USD."""
        for bar, value in zip(self.load, energy):
            bar.set_width(value)
        for bar, value in zip(self.capacity, capacity):
            bar.set_width(value)
        self.axes[0].set_xlim(0, max(float(np.max(capacity)), float(np.max(energy)), 1e-9) * 1.05)
        for k in range(2):
            for bar, value in zip(self.footprints[k], weighted_footprint[k]):
                bar.set_width(value)
            worst = float(np.max(weighted_footprint[k]))
            self.worst[k].set_xdata([worst, worst])
            self.axes[k + 1].set_xlim(0, max(worst, 1e-9) * 1.1)
        self.title.set_text(title)
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())[:, :, :3].copy()
