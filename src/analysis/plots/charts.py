"""The report's plots: each takes a table and returns a matplotlib Figure
(saved with ``style.save_figure``)."""

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from .style import CYCLE, OKABE_ITO, SIDE_COLOURS, bar_axes, new_figure, say_empty

BINARY = ("#E8E8E8", OKABE_ITO["blue"])  # absent, present
DIAGONAL = "#BBBBBB"


def bars(values: pd.Series, title: str, n: str, xlabel: str, share=False, colour=None):
    """Horizontal bars, one per index label, in the order given (top first)."""
    fig, ax = new_figure(height=1.2 + 0.28 * max(len(values), 1), title=title, n=n)
    if values.empty or not values.any():
        say_empty(ax, xlabel.lower())
        return fig
    y = np.arange(len(values))
    ax.barh(y, values.to_numpy(), color=colour or OKABE_ITO["blue"])
    bar_axes(ax, values.index, xlabel, share, counts=not share)
    for yi, v in zip(y, values.to_numpy()):
        ax.text(v, yi, f" {v:.0%}" if share else f" {v:,.0f}", va="center", fontsize=8)
    return fig


def stacked_bars(table: pd.DataFrame, title: str, n: str, xlabel: str, colours=None):
    """Horizontal stacked bars of counts: one bar per row, one segment per
    column, coloured by ``colours`` ({column: colour}, the same for every
    corpus) or else by the column's place."""
    fig, ax = new_figure(height=1.6 + 0.3 * max(len(table), 1), title=title, n=n)
    if table.empty or not table.to_numpy().any():
        say_empty(ax, xlabel.lower())
        return fig
    y = np.arange(len(table))
    left = np.zeros(len(table))
    for i, col in enumerate(table.columns):
        vals = table[col].to_numpy(dtype=float)
        colour = (colours or {}).get(col, CYCLE[i % len(CYCLE)])
        ax.barh(y, vals, left=left, color=colour, label=str(col))
        left += vals
    bar_axes(ax, table.index, xlabel, share=False, legend=True, counts=True)
    return fig


def grouped_bars(table: pd.DataFrame, title: str, n: str, xlabel: str, share=True,
                 values=False):
    """Horizontal grouped bars: one group per row, one bar per column; with
    ``values``, each bar's value is written beside it (so a zero shows too)."""
    fig, ax = new_figure(height=1.6 + 0.42 * max(len(table), 1), title=title, n=n)
    if table.empty or not table.to_numpy().any():
        say_empty(ax, xlabel.lower())
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
    bar_axes(ax, table.index, xlabel, share, legend=True)
    return fig


def alpha_bars(values: pd.Series, title: str, n: str, thresholds=(0.667, 0.800)):
    """Krippendorff's alpha per label (top first), with the conventional
    thresholds drawn as dashed lines; an undefined alpha (NaN) gets no bar and
    says so."""
    fig, ax = new_figure(height=1.4 + 0.28 * max(len(values), 1), title=title, n=n)
    if values.empty:
        say_empty(ax, "coded units")
        return fig
    y = np.arange(len(values))
    v = values.to_numpy(dtype=float)
    ax.barh(y, np.nan_to_num(v), color=[OKABE_ITO["blue"] if x >= thresholds[-1] else
                                        OKABE_ITO["orange"] if x >= thresholds[0] else
                                        OKABE_ITO["vermillion"] for x in np.nan_to_num(v)])
    for t in thresholds:
        ax.axvline(t, color="#444444", linestyle="--", linewidth=0.8)
        ax.text(t, -0.6, f"{t:.3f}", ha="center", va="bottom", fontsize=7, color="#444444")
    bar_axes(ax, values.index, "Krippendorff's alpha (nominal)", share=False)
    ax.set_xlim(min(0.0, float(np.nanmin(v)) if np.isfinite(v).any() else 0.0) - 0.05, 1.1)
    for yi, x in zip(y, v):
        ax.text(max(x, 0.0) if np.isfinite(x) else 0.0, yi,
                f" {x:.2f}" if np.isfinite(x) else " undefined", va="center", fontsize=8)
    return fig


def heatmap(table: pd.DataFrame, title: str, n: str, fmt="{:.0f}", vmax=None, label="",
            binary=False, diagonal=False):
    """A matrix with each cell's value written in it; rows and columns in the
    order given. ``binary``: 0/1 data, drawn in two colours with a legend
    (``label`` names the 1s), not on a colour scale. ``diagonal``: a square
    co-occurrence matrix whose diagonal (each row's total) is drawn in grey
    and left off the colour scale, so it cannot swamp the off-diagonal cells.
    The colour bar sits below the matrix, its ticks whole numbers for counts."""
    rows, cols = len(table.index), len(table.columns)
    fig, ax = new_figure(width=max(5.0, 2.5 + 0.75 * cols), height=max(2.8, 2.1 + 0.38 * rows),
                         title=title, n=n)
    if table.empty:
        say_empty(ax, label or "values")
        return fig
    data = table.to_numpy(dtype=float)
    shown = data.copy()
    if diagonal:
        np.fill_diagonal(shown, np.nan)
    if binary:
        top, cmap = 1.0, matplotlib.colors.ListedColormap([BINARY[0], BINARY[1]])
    else:
        finite = shown[np.isfinite(shown)]
        top = vmax if vmax is not None else max(float(finite.max()) if finite.size else 0.0, 1.0)
        cmap = matplotlib.colormaps["cividis"].with_extremes(bad=DIAGONAL)
    image = ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, vmin=0, vmax=top, aspect="auto")
    ax.set_xticks(np.arange(cols), [str(c) for c in table.columns], rotation=35, ha="right")
    ax.set_yticks(np.arange(rows), [str(r) for r in table.index])
    ax.spines[:].set_visible(False)
    for (i, j), v in np.ndenumerate(data):
        light = v < 0.5 if binary else np.isnan(shown[i, j]) or v > top * 0.6
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                color="black" if light else "white")
    if binary:
        fig.legend(handles=[Patch(color=BINARY[1], label=label or "present (1)"),
                            Patch(color=BINARY[0], label="absent (0)")],
                   loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    elif label:
        bar = fig.colorbar(image, ax=ax, location="bottom", shrink=0.6, aspect=40, pad=0.02)
        bar.set_label(label + (" (diagonal in grey: off the scale)" if diagonal else ""),
                      fontsize=8)
        if "%" in fmt:
            bar.ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        elif np.allclose(finite, np.round(finite)):
            bar.ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def event_timeline(events: pd.DataFrame, title: str, n: str):
    """Dated case events: one row per case (labelled by case id), coloured by
    the side each favours. An event dated to the day is a marker on that day;
    one dated to a month or a year is a bar over that period with its marker
    in the middle, so "2021" is not drawn as 1 January. Hollow markers are
    approximate dates."""
    cases = sorted(set(events["case_id"])) if len(events) else []
    fig, ax = new_figure(width=7.5, height=2.0 + 0.5 * max(len(cases), 1), title=title, n=n)
    if events.empty:
        say_empty(ax, "dated case events")
        return fig
    row = {c: i for i, c in enumerate(cases)}
    # events on the same case and day are spread a little, so none hides another
    offset = (events.groupby(["case_id", "when"]).cumcount().to_numpy() % 5) * 0.12
    y = events["case_id"].map(row).to_numpy() + offset
    end = events["until"] + pd.Timedelta(days=1)  # the end of the period's last day
    middle = events["when"] + (end - events["when"]) / 2
    span = (events["precision"] != "day").to_numpy()
    approximate = events["approximate"].fillna(False).astype(bool)
    for side, colour in SIDE_COLOURS.items():
        mine = (events["favours"] == side).to_numpy()
        if (mine & span).any():
            ax.hlines(y[mine & span], events["when"][mine & span], end[mine & span],
                      colors=colour, linewidth=3, alpha=0.35, zorder=2)
        for approx in (False, True):
            pick = mine & (approximate == approx).to_numpy()
            if not pick.any():
                continue
            ax.scatter(middle[pick], y[pick], s=36, marker="o", zorder=3,
                       facecolors="none" if approx else colour, edgecolors=colour,
                       linewidths=1.4,
                       label=f"favours {side}" + (", approximate date" if approx else ""))
    if span.any():
        ax.plot([], [], color="#999999", linewidth=3, alpha=0.5,
                label="month or year only: the period")
    ax.set_yticks(range(len(cases)), cases)
    ax.set_ylim(len(cases) - 0.5, -0.5)
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig
