"""The report's figures: one style, plot functions that take a table and
return a matplotlib Figure, and one helper that saves a figure as
deterministic files.

The palette is Okabe & Ito's (2008), readable with every common colour-vision
deficiency; heatmaps use cividis, which is too. Every plot function takes the
``n`` it shows (e.g. "n = 3 documents, 41 paragraphs") and writes it under the
title, so no figure leaves the report without its n.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .fileio import write_bytes_atomic

OKABE_ITO = {"blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73",
             "orange": "#E69F00", "sky": "#56B4E9", "purple": "#CC79A7",
             "yellow": "#F0E442", "grey": "#999999", "black": "#000000"}
SIDE_COLOURS = {"accuser": OKABE_ITO["blue"], "accused": OKABE_ITO["vermillion"],
                "neutral": OKABE_ITO["grey"]}
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky",
                                "yellow", "grey")]
FORMATS = ("png", "svg")

# Fixed fonts, sizes and resolution make the files the same on every machine
# that has the pinned matplotlib (its DejaVu fonts ship inside the wheel);
# the SVG hash salt fixes the ids matplotlib would otherwise draw at random.
STYLE = {
    "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 10,
    "axes.titleweight": "bold", "axes.titlelocation": "left", "axes.spines.top": False,
    "axes.spines.right": False, "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
    "figure.dpi": 100, "savefig.dpi": 150, "figure.facecolor": "white",
    "savefig.facecolor": "white", "svg.hashsalt": "analysis", "svg.fonttype": "path",
    "image.cmap": "cividis",
}
_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}


def _figure(width=7.0, height=4.0, title="", n=""):
    matplotlib.rcParams.update(STYLE)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=10)
    ax.set_title(n, fontsize=8, fontweight="normal", color="#444444")
    return fig, ax


def _empty(ax, what):
    ax.text(0.5, 0.5, f"No {what} in the selected documents", ha="center", va="center",
            transform=ax.transAxes, color="#444444")
    ax.set_xticks([])
    ax.set_yticks([])


def _bar_axes(ax, labels, xlabel: str, share: bool, legend=False):
    """The shared look of horizontal bars: labels top to bottom, the x label,
    a 0-100% axis for shares, and the legend when there are several series."""
    ax.set_yticks(np.arange(len(labels)), [str(i) for i in labels])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if share:
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    if legend:  # below the plot, where it can hide no bar
        handles = ax.get_legend_handles_labels()[0]
        ax.figure.legend(loc="outside lower center", ncol=min(len(handles), 6), fontsize=8,
                         frameon=False)


def save_figure(fig, stem: str, folder, formats=FORMATS) -> list:
    """Write ``fig`` as ``folder/stem.<format>`` for each format (png, svg,
    pdf), atomically and with no dates or random ids; closes the figure.
    Returns the paths written (unchanged files are left untouched)."""
    import io

    unknown = sorted(set(formats) - {"png", "svg", "pdf"})
    if unknown:
        from .errors import InputError
        raise InputError(f"parameter figure_formats: {', '.join(unknown)} not supported; use "
                         "png, svg or pdf.")
    folder = Path(folder)
    out = []
    with matplotlib.rc_context(STYLE):
        for fmt in formats:
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata=_METADATA.get(fmt, {"CreationDate": None}))
            path = folder / f"{stem}.{fmt}"
            write_bytes_atomic(path, buf.getvalue())
            out.append(path)
    plt.close(fig)
    return out


def bars(values: pd.Series, title: str, n: str, xlabel: str, share=False, colour=None):
    """Horizontal bars, one per index label, in the order given (top first)."""
    fig, ax = _figure(height=1.2 + 0.28 * max(len(values), 1), title=title, n=n)
    if values.empty or not values.any():
        _empty(ax, xlabel.lower())
        return fig
    y = np.arange(len(values))
    ax.barh(y, values.to_numpy(), color=colour or OKABE_ITO["blue"])
    _bar_axes(ax, values.index, xlabel, share)
    for yi, v in zip(y, values.to_numpy()):
        ax.text(v, yi, f" {v:.0%}" if share else f" {v:,.0f}", va="center", fontsize=8)
    return fig


def stacked_bars(table: pd.DataFrame, title: str, n: str, xlabel: str, colours=None):
    """Horizontal stacked bars: one bar per row, one segment per column."""
    fig, ax = _figure(height=1.6 + 0.3 * max(len(table), 1), title=title, n=n)
    if table.empty or not table.to_numpy().any():
        _empty(ax, xlabel.lower())
        return fig
    y = np.arange(len(table))
    left = np.zeros(len(table))
    for i, col in enumerate(table.columns):
        vals = table[col].to_numpy(dtype=float)
        colour = (colours or {}).get(col, CYCLE[i % len(CYCLE)])
        ax.barh(y, vals, left=left, color=colour, label=str(col))
        left += vals
    _bar_axes(ax, table.index, xlabel, share=False, legend=True)
    return fig


def grouped_bars(table: pd.DataFrame, title: str, n: str, xlabel: str, share=True,
                 values=False):
    """Horizontal grouped bars: one group per row, one bar per column; with
    ``values``, each bar's value is written beside it (so a zero shows too)."""
    fig, ax = _figure(height=1.6 + 0.42 * max(len(table), 1), title=title, n=n)
    if table.empty or not table.to_numpy().any():
        _empty(ax, xlabel.lower())
        return fig
    y = np.arange(len(table))
    h = 0.8 / len(table.columns)
    for i, col in enumerate(table.columns):
        x = table[col].to_numpy(dtype=float)
        ax.barh(y - 0.4 + h * (i + 0.5), x, height=h, color=CYCLE[i % len(CYCLE)],
                label=str(col))
        if values:
            for yi, v in zip(y - 0.4 + h * (i + 0.5), x):
                ax.text(0.0 if np.isnan(v) else v, yi, " –" if np.isnan(v) else
                        f" {v:.0%}" if share else f" {v:.2f}", va="center", fontsize=7)
    _bar_axes(ax, table.index, xlabel, share, legend=True)
    return fig


def alpha_bars(values: pd.Series, title: str, n: str, thresholds=(0.667, 0.800)):
    """Krippendorff's alpha per label (top first), with the conventional
    thresholds drawn as dashed lines; an undefined alpha (NaN) gets no bar and
    says so."""
    fig, ax = _figure(height=1.4 + 0.28 * max(len(values), 1), title=title, n=n)
    if values.empty:
        _empty(ax, "coded units")
        return fig
    y = np.arange(len(values))
    v = values.to_numpy(dtype=float)
    ax.barh(y, np.nan_to_num(v), color=[OKABE_ITO["blue"] if x >= thresholds[-1] else
                                          OKABE_ITO["orange"] if x >= thresholds[0] else
                                          OKABE_ITO["vermillion"] for x in np.nan_to_num(v)])
    for t in thresholds:
        ax.axvline(t, color="#444444", linestyle="--", linewidth=0.8)
        ax.text(t, -0.6, f"{t:.3f}", ha="center", va="bottom", fontsize=7, color="#444444")
    _bar_axes(ax, values.index, "Krippendorff's alpha (nominal)", share=False)
    ax.set_xlim(min(0.0, float(np.nanmin(v)) if np.isfinite(v).any() else 0.0) - 0.05, 1.1)
    for yi, x in zip(y, v):
        ax.text(max(x, 0.0) if np.isfinite(x) else 0.0, yi,
                f" {x:.2f}" if np.isfinite(x) else " undefined", va="center", fontsize=8)
    return fig


def heatmap(table: pd.DataFrame, title: str, n: str, fmt="{:.0f}", vmax=None, label=""):
    """A matrix with each cell's value written in it; rows and columns in the
    order given."""
    rows, cols = len(table.index), len(table.columns)
    fig, ax = _figure(width=max(5.0, 2.5 + 0.75 * cols), height=max(2.5, 1.6 + 0.38 * rows),
                      title=title, n=n)
    if table.empty:
        _empty(ax, label or "values")
        return fig
    data = table.to_numpy(dtype=float)
    top = vmax if vmax is not None else max(float(np.nanmax(data)), 1.0)
    image = ax.imshow(data, cmap="cividis", vmin=0, vmax=top, aspect="auto")
    ax.set_xticks(np.arange(cols), [str(c) for c in table.columns], rotation=35, ha="right")
    ax.set_yticks(np.arange(rows), [str(r) for r in table.index])
    ax.spines[:].set_visible(False)
    for (i, j), v in np.ndenumerate(data):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                color="black" if v > top * 0.6 else "white")
    if label:
        fig.colorbar(image, ax=ax, shrink=0.8, label=label)
    return fig


def event_timeline(events: pd.DataFrame, title: str, n: str):
    """Dated case events: one row per case (labelled by case id), a marker per
    event at its date, coloured by the side it favours; hollow markers for
    approximate dates."""
    import matplotlib.dates as mdates

    cases = sorted(set(events["case_id"])) if len(events) else []
    fig, ax = _figure(width=7.5, height=2.0 + 0.5 * max(len(cases), 1), title=title, n=n)
    if events.empty:
        _empty(ax, "dated case events")
        return fig
    row = {c: i for i, c in enumerate(cases)}
    # events on the same case and day are spread a little, so none hides another
    offset = (events.groupby(["case_id", "when"]).cumcount().to_numpy() % 5) * 0.12
    approximate = events["approximate"].fillna(False).astype(bool)
    for side, colour in SIDE_COLOURS.items():
        for approx in (False, True):
            pick = ((events["favours"] == side) & (approximate == approx)).to_numpy()
            if not pick.any():
                continue
            ax.scatter(events["when"][pick], events["case_id"].map(row)[pick] + offset[pick],
                       s=36, marker="o", zorder=3,
                       facecolors="none" if approx else colour, edgecolors=colour,
                       linewidths=1.4,
                       label=f"favours {side}" + (", approximate date" if approx else ""))
    ax.set_yticks(range(len(cases)), cases)
    ax.set_ylim(len(cases) - 0.5, -0.5)
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig
